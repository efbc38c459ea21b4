"""The session table's fixed column types: a column's type never depends on the other rows."""

from __future__ import annotations

import pandas as pd

from cpmlab.scoring.columns import session_columns
from cpmlab.scoring.options import ScoringOptions

BOOLEAN_COLUMNS = ("recovered", "ts_mixed_scales", "cs_mixed_scales", "hpt_result_mismatch")
COUNT_SUFFIXES = ("_n", "_missing", "_n_trials", "_n_invalid", "_plateaus")


def typed_sessions(sessions: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Give every session column its declared type: float (units), Int64 (counts), boolean or string."""
    for name, spec in session_columns(options).items():
        if "Units" in spec:
            sessions[name] = pd.to_numeric(sessions[name], errors="coerce").astype(float)
        elif name == "run" or name.endswith(COUNT_SUFFIXES):
            sessions[name] = sessions[name].astype("Int64")
        elif name in BOOLEAN_COLUMNS or name.endswith("_censored"):
            sessions[name] = sessions[name].astype("boolean")
        else:
            sessions[name] = sessions[name].astype("string")
    return sessions
