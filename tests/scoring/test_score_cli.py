"""cpmlab score and cpmlab report run through cpmlab.cli.main.main on a multi-participant dataset."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cpmlab.cli.main import main
from cpmlab.scoring.derivatives import FIGURE_DIR, derivative_root, group_root, report_path
from cpmlab.scoring.synthetic import generate_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six participants x four sessions, active and sham, with recordings."""
    root = tmp_path_factory.mktemp("cli") / "ds"
    generate_dataset(root, 6, 4, seed=11)
    return root


def test_score_prints_a_summary_and_where_files_went(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0; the counts, the headline measures and both output folders are printed; no nested derivatives/."""
    assert main(["score", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "6 participants, 24 runs in 1 paradigm (cpm)" in out and "cpm_late" in out
    assert re.search(r"^cpm +active +cpm_late +0-100 +6 +\S+ \[", out, re.MULTILINE)  # task, condition, 95% CI
    assert f"per-run scores (BIDS derivative): {derivative_root(dataset.resolve())}" in out
    assert f"tables of the whole dataset: {group_root(dataset.resolve())}" in out
    assert (group_root(dataset) / "cpm_groups.tsv").is_file()
    assert not [p for p in dataset.rglob("*") if p.relative_to(dataset).parts.count("derivatives") > 1]


def test_score_sign_option_flips_the_written_effects(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--sign inhibition-positive writes minus the default effects."""
    main(["score", str(dataset)])
    table = group_root(dataset) / "cpm_sessions.tsv"
    neg = pd.read_csv(table, sep="\t")["cpm_late"]
    main(["score", str(dataset), "--sign", "inhibition-positive"])
    pos = pd.read_csv(table, sep="\t")["cpm_late"]
    assert (pos == -neg).all()
    capsys.readouterr()


def test_report_writes_the_page_its_figures_and_the_tables(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The printed path is the report; it embeds its figures, which are also PNG and SVG files beside it."""
    assert main(["report", str(dataset)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == report_path(dataset.resolve())
    page = path.read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "Test-retest reliability" in page and "Active versus sham" in page
    figures = group_root(dataset) / FIGURE_DIR
    assert len(list(figures.glob("*.png"))) == len(list(figures.glob("*.svg"))) == 5
    assert (group_root(dataset) / "cpm_groups.tsv").exists()


def test_errors_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Missing or non-BIDS folders print a clear error, exit 2 and create no files."""
    assert main(["score", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "notbids").mkdir()
    assert main(["report", str(tmp_path / "notbids")]) == 2
    assert "not a BIDS dataset" in capsys.readouterr().err
    assert list((tmp_path / "notbids").iterdir()) == []


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """score --help and report --help exit 0 and describe the options."""
    for cmd in ("score", "report"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "--sign" in out and "--retest-sessions" in out


def test_retest_sessions_option_is_used_recorded_and_reused(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--retest-sessions ses-3,1 pairs active ses-3 with ses-1 (sham is 2 and 4: no pair); recorded and reused."""
    assert main(["score", str(dataset), "--retest-sessions", "ses-3,1"]) == 0
    group = group_root(dataset)
    pairs = pd.read_csv(group / "cpm_retest_pairs.tsv", sep="\t")
    assert set(pairs["session_1"]) == {"ses-3"} and set(pairs["session_2"]) == {"ses-1"}
    assert set(pairs["condition"]) == {"active"} and len(pairs) == 6 * 4  # 6 participants x 4 measures
    options = json.loads((group / "cpm_sessions.json").read_text())["ScoringOptions"]
    assert options["retest_sessions"] == ["3", "1"]
    assert main(["report", str(dataset)]) == 0
    assert set(pd.read_csv(group / "cpm_retest.tsv", sep="\t")["sessions"]) == {"ses-3 | ses-1"}
    assert main(["score", str(dataset)]) == 0  # without the option: each condition's first two sessions again
    retest = pd.read_csv(group / "cpm_retest.tsv", sep="\t")
    assert set(zip(retest["condition"], retest["sessions"], strict=True)) == {
        ("active", "ses-1 | ses-3"),
        ("sham", "ses-2 | ses-4"),
    }
    capsys.readouterr()


@pytest.mark.parametrize("pair", ["1", "1,2,3", "2,2", "ses_1,2", ","])
def test_bad_retest_sessions_exit_2_and_change_nothing(
    dataset: Path, pair: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed pair prints a clear error, exits 2 and leaves the earlier derivatives as they were."""
    main(["score", str(dataset)])
    capsys.readouterr()
    table = group_root(dataset) / "cpm_retest.tsv"
    before = table.read_bytes()
    assert main(["score", str(dataset), "--retest-sessions", pair]) == 2
    err = capsys.readouterr().err
    assert "session" in err and "Traceback" not in err
    assert table.read_bytes() == before
