"""ScoringOptions: the retest pair is validated, parsed from 'A,B' and recorded; bad values are refused."""

from __future__ import annotations

import pytest

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.options import ScoringOptions, parse_session_pair


def test_pair_is_parsed_with_or_without_the_ses_prefix_and_recorded() -> None:
    """'ses-2, 10' and '2,10' give ('2', '10'); as_dict records the pair, None by default."""
    assert parse_session_pair("ses-2, 10") == ("2", "10") == parse_session_pair("2,10")
    options = ScoringOptions(retest_sessions=("2", "10"))
    assert options.as_dict()["retest_sessions"] == ["2", "10"]
    assert "ses-2 against ses-10" in options.retest_text()
    assert ScoringOptions().as_dict()["retest_sessions"] is None
    assert "natural order" in ScoringOptions().retest_text()


@pytest.mark.parametrize("text", ["1", "1,2,3", "3,3", "ses-1,ses-1", "a b,2", ",2", ""])
def test_malformed_pairs_are_refused(text: str) -> None:
    """One label, three, the same twice, a non-BIDS label or an empty one raise a CpmlabError."""
    with pytest.raises(CpmlabError):
        parse_session_pair(text)


def test_options_refuse_an_unknown_sign_and_a_bad_pair() -> None:
    """The dataclass itself checks the sign and the pair, so no caller can build a bad one."""
    with pytest.raises(CpmlabError, match="sign"):
        ScoringOptions(sign="inhibition-up")  # type: ignore[arg-type]
    with pytest.raises(CpmlabError, match="two different"):
        ScoringOptions(retest_sessions=("1", "1"))
    with pytest.raises(CpmlabError, match="exactly two"):
        ScoringOptions(retest_sessions=("1", "2", "3"))  # type: ignore[arg-type]
