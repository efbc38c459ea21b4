"""The pipeline's group-level tables equal the report tests' own schema implementation (written apart)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import schema_tables

from cpmlab.scoring.pipeline import score_dataset
from cpmlab.scoring.synthetic_study import generate_study


@pytest.mark.parametrize("sign", ["inhibition-negative", "inhibition-positive"])
def test_pipeline_tables_equal_the_report_fixture_tables(tmp_path: Path, sign: str) -> None:
    """Participants, groups, contrast, retest pairs and retest agree on a mixed two-session study."""
    from cpmlab.scoring.options import ScoringOptions

    root = tmp_path / "study"
    generate_study(root, 6, 2, seed=3)
    scored = score_dataset(root, ScoringOptions(sign=sign))
    reference = schema_tables(scored.sessions, scored.options)
    assert set(reference) == {"participants", "groups", "contrast", "retest_pairs", "retest"}
    for name, expected in reference.items():
        assert not expected.empty, name
        pd.testing.assert_frame_equal(
            getattr(scored, name).reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False, rtol=1e-9
        )
