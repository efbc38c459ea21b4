"""Put ratings on one scale without mixing VAS and NRS silently."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cpmlab.core.scales import NUMERIC_SCALES, SCALES
from cpmlab.scoring.options import ScoringOptions

RANGES = {name: SCALES[name].range_text for name in NUMERIC_SCALES}
NRS_TO_VAS = SCALES["vas"].maximum() / SCALES["nrs"].maximum()


@dataclass(frozen=True)
class ScaledRatings:
    """Ratings on one common range, or mixed=True when they cannot be combined."""

    values: pd.Series  # numeric, NaN = no answer; index follows the input rows
    scale: str | None  # what was rated: vas, nrs, or vas+nrs
    range: str | None  # 0-100 or 0-10 (None when mixed or empty)
    mixed: bool


def scaled_ratings(rows: pd.DataFrame, options: ScoringOptions) -> ScaledRatings:
    """Return numeric VAS/NRS ratings of rows on one range (NRS x10 only if options say so)."""
    rows = rows[rows["scale"].isin(NUMERIC_SCALES)]
    values = pd.to_numeric(rows["rating"], errors="coerce").astype(float)
    scales = sorted(set(rows["scale"].dropna()))
    if not scales:
        return ScaledRatings(values, None, None, False)
    scale = "+".join(sorted(scales, key=NUMERIC_SCALES.index))
    if len(scales) == 1 and not (options.normalise_nrs and scales == ["nrs"]):
        return ScaledRatings(values, scale, RANGES[scales[0]], False)
    if options.normalise_nrs:
        values = values.where(rows["scale"] != "nrs", values * NRS_TO_VAS)
        return ScaledRatings(values, scale, RANGES["vas"], False)
    return ScaledRatings(values, scale, None, True)
