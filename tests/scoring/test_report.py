"""The HTML report: the answer first, figures per paradigm as PNG and SVG with captions, links, no None/nan."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import scored_with_schema, write_study
from scoring_helpers import write_specs

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.derivatives import FIGURE_DIR, REPORT_FILE, report_path
from cpmlab.scoring.figures import figure_names
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.report import FIGURE_INDEX, build_report, write_report
from cpmlab.scoring.report_format import with_interval
from cpmlab.scoring.report_sections import FULL_TABLES
from cpmlab.scoring.synthetic import session_spec

N = 6


class _Visible(HTMLParser):
    """Collects what a reader sees: text, and attribute values other than embedded data and links."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.cells: list[list[str]] = []  # rows of table cells
        self.images: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v or "" for k, v in attrs if k not in ("src", "href")]
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.cells.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def visible(page: str) -> _Visible:
    """Parse the page into what a reader sees."""
    parser = _Visible()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> ScoredDataset:
    """Six participants: sequential and parallel CPM twice, sham twice, a cold-pressor run; one with recordings."""
    root = write_study(tmp_path_factory.mktemp("report") / "study", N, recordings_for_first=True)
    return scored_with_schema(root)


@pytest.fixture(scope="module")
def built(study: ScoredDataset) -> tuple[dict[Path, bytes], list[str]]:
    """The report's files and the names on_step was called with."""
    steps: list[str] = []
    return build_report(study, steps.append), steps


def _page(files: dict[Path, bytes]) -> str:
    return files[REPORT_FILE].decode("utf-8")


def test_the_report_leads_with_the_answer(study: ScoredDataset, built: tuple[dict[Path, bytes], list[str]]) -> None:
    """Groups, contrast and reliability come before the figures; the groups row shows the table's mean and CI."""
    page = _page(built[0])
    order = [
        page.index(h)
        for h in (
            "CPM effect per paradigm and condition",
            "Active versus sham",
            "Test-retest reliability",
            "Figures per paradigm",
            "Runs and data quality",
            "Full tables",
        )
    ]
    assert order == sorted(order)
    rows = visible(page).cells
    g = study.groups
    want = g[(g["task"] == "cpmsequential") & (g["condition"] == "sham") & (g["measure"] == "cpm_late")].iloc[0]
    row = next(r for r in rows if r[:3] == ["cpmsequential", "sham", "late CPM (after CS)"])
    assert row[4] == str(N) and row[5] == with_interval(want["mean"], want["ci_low"], want["ci_high"])
    assert "[" in row[5]  # six participants: the CI is there
    tasks_shown = {r[0] for r in rows[1:] if r and r[0].startswith("cpm")}
    assert tasks_shown == {"cpmsequential", "cpmparallel"}


def test_contrast_and_reliability_rows_show_the_schema_columns(
    study: ScoredDataset, built: tuple[dict[Path, bytes], list[str]]
) -> None:
    """The contrast row has the paired difference with its CI, t (df), both p and dz; retest has both ICC CIs."""
    rows = visible(_page(built[0])).cells
    c = study.contrast[study.contrast["measure"] == "cpm_late"].iloc[0]
    row = next(r for r in rows if len(r) == 12 and r[0] == "cpmsequential")
    assert row[6] == with_interval(c["mean_diff"], c["diff_ci_low"], c["diff_ci_high"])
    assert row[7] == f"{c['t']:.2f} ({int(c['df'])})" and row[11] == f"{c['dz']:.2f}"
    assert re.fullmatch(r"<0\.001|\d\.\d{3}", row[8]) and re.fullmatch(r"<0\.001|\d\.\d{3}", row[10])
    r = study.retest
    want = r[(r["task"] == "cpmsequential") & (r["condition"] == "active") & (r["measure"] == "cpm_late")].iloc[0]
    row = next(x for x in rows if len(x) == 10 and x[:3] == ["cpmsequential", "active", "late CPM (after CS)"])
    assert row[6] == with_interval(want["icc_3_1"], want["icc_3_1_ci_low"], want["icc_3_1_ci_high"])
    assert row[7] == with_interval(want["icc_2_1"], want["icc_2_1_ci_low"], want["icc_2_1_ci_high"])
    assert not any(x[1:3] == ["active", "early CPM, % of baseline"] for x in rows)  # headline measures only


def test_full_tables_are_linked_relative_to_the_report_not_printed(study: ScoredDataset, tmp_path: Path) -> None:
    """Every full table is a relative link that resolves to the written file; per-run rows are not in the page."""
    path = write_report(study)
    assert path == report_path(study.root) and path.is_file()
    page = path.read_text(encoding="utf-8")
    for name, _ in FULL_TABLES:
        assert f'href="../{name}.tsv"' in page
        assert (path.parent / ".." / f"{name}.tsv").resolve().is_file(), name
    seen = visible(page)
    assert len(seen.cells) < len(study.sessions) / 2
    assert not any(cell.startswith("sub-") for row in seen.cells for cell in row)


def test_figures_per_paradigm_as_png_and_svg_with_captions(
    study: ScoredDataset, built: tuple[dict[Path, bytes], list[str]]
) -> None:
    """Lines, distributions, Bland-Altman and retest scatter per paradigm; captions give n, sign and paradigm."""
    files, _ = built
    index = pd.read_csv(pd.io.common.BytesIO(files[FIGURE_INDEX]), sep="\t")
    for task in ("cpmsequential", "cpmparallel"):
        for kind in ("lines", "effects", "blandaltman", "retest"):
            name = f"{kind}_task-{task}"
            assert files[FIGURE_DIR / f"{name}.png"].startswith(b"\x89PNG"), name
            assert b"<svg" in files[FIGURE_DIR / f"{name}.svg"][:2000], name
            row = index[index["png"] == f"{name}.png"].iloc[0]
            assert row["task"] == task and row["kind"] == kind and row["n"] == N
            assert f"n = {N} participants" in row["caption"] and f"Paradigm (task) {task}" in row["caption"]
            assert "negative = inhibition" in row["caption"]
    page = _page(files)
    seen = visible(page)
    for caption in index["caption"]:
        assert caption in seen.parts  # the image's alt text
    assert page.count("<figcaption>") == len(index)
    assert len(seen.images) == len(index) and all(s.startswith("data:image/png;base64,") for s in seen.images)
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_on_step_is_called_once_per_planned_figure(
    study: ScoredDataset, built: tuple[dict[Path, bytes], list[str]]
) -> None:
    """The progress callback sees every planned figure's name once, in order."""
    names = figure_names(study)
    assert built[1] == names and len(names) == 9  # 4 per CPM paradigm + one session's traces


def _one_participant(root: Path) -> ScoredDataset:
    return scored_with_schema(write_study(root, 1))


def _missing_values(root: Path) -> ScoredDataset:
    return scored_with_schema(write_study(root, 3, missing=True))


def _cold_pressor_only(root: Path) -> ScoredDataset:
    specs = [session_spec(p, "1", "active", {}, [], task="coldpressor", pdt_s=9.0, ptt_s=40.0) for p in ("01", "02")]
    return scored_with_schema(write_specs(root, specs))


def _one_session_each(root: Path) -> ScoredDataset:
    specs = [
        session_spec(p, "1", "active", {"before": [50.0, 52.0], "after": [40.0 + i, 41.0]}, [6.0], task="cpmsequential")
        for i, p in enumerate(("01", "02", "03"))
    ]
    return scored_with_schema(write_specs(root, specs))


def _inhibition_positive(root: Path) -> ScoredDataset:
    return scored_with_schema(write_study(root, 3), ScoringOptions(sign="inhibition-positive"))


DATASETS = {
    "one_participant": _one_participant,
    "missing_values": _missing_values,
    "cold_pressor_only": _cold_pressor_only,
    "one_session_each": _one_session_each,
    "inhibition_positive": _inhibition_positive,
}
NOT_A_VALUE = re.compile(r"\b(none|nan|null|inf)\b", re.IGNORECASE)


@pytest.mark.parametrize("make", list(DATASETS.values()), ids=list(DATASETS))
def test_nothing_prints_none_or_nan(make: object, tmp_path: Path) -> None:
    """Neither the page (text, captions, alt text) nor the figure index says None, nan, null or inf."""
    scored = make(tmp_path / "ds")  # type: ignore[operator]
    files = build_report(scored)
    seen = " ".join(visible(_page(files)).parts)
    assert not NOT_A_VALUE.search(seen), NOT_A_VALUE.findall(seen)
    index = files[FIGURE_INDEX].decode("utf-8")
    assert not NOT_A_VALUE.search(index)


def test_the_study_page_says_no_none_or_nan(built: tuple[dict[Path, bytes], list[str]]) -> None:
    """The same check on the full study."""
    seen = " ".join(visible(_page(built[0])).parts)
    assert not NOT_A_VALUE.search(seen)


def test_empty_data_gives_plain_sentences_and_no_figures(tmp_path: Path) -> None:
    """No CPM at all, or no second session: the sections and figures say so in words and draw nothing."""
    files = build_report(_cold_pressor_only(tmp_path / "cpt"))
    page = _page(files)
    assert "No CPM effect could be computed" in page and "there is no contrast" in page
    assert "reliability is not computed" in page and "coldpressor: no test-stimulus ratings" in page
    assert not [p for p in files if p.suffix == ".png"]
    files = build_report(_one_session_each(tmp_path / "once"))
    page = _page(files)
    assert "so there is no Bland-Altman plot" in page and "so there is no test-retest scatter" in page
    assert {p.stem for p in files if p.suffix == ".png"} == {"lines_task-cpmsequential", "effects_task-cpmsequential"}


def test_one_participant_still_draws_without_limits_or_intervals(tmp_path: Path) -> None:
    """n = 1: a mean without a CI in the groups table, and a Bland-Altman plot with its single pair."""
    scored = _one_participant(tmp_path / "one")
    files = build_report(scored)
    rows = visible(_page(files)).cells
    row = next(r for r in rows if r[:3] == ["cpmsequential", "active", "late CPM (after CS)"])
    assert row[4] == "1" and "[" not in row[5] and row[6] == "n/a"
    index = pd.read_csv(pd.io.common.BytesIO(files[FIGURE_INDEX]), sep="\t")
    assert set(index.loc[index["task"] == "cpmsequential", "kind"]) == {"lines", "effects", "blandaltman", "retest"}
    assert (index.loc[index["kind"] != "session", "caption"].str.contains("n = 1 participant\\.")).all()


def test_sign_convention_follows_the_options(tmp_path: Path) -> None:
    """With --sign inhibition-positive the captions and the groups note say positive = inhibition."""
    files = build_report(_inhibition_positive(tmp_path / "pos"))
    index = pd.read_csv(pd.io.common.BytesIO(files[FIGURE_INDEX]), sep="\t")
    cpm = index[index["kind"] != "session"]
    assert not cpm.empty and cpm["caption"].str.contains("positive = inhibition").all()
    assert not cpm["caption"].str.contains("negative = inhibition").any()


def test_schema_rows_with_missing_statistics_read_n_a(study: ScoredDataset) -> None:
    """A contrast row whose tests are undefined (None and NaN) shows n/a, never a blank or an error."""
    contrast = study.contrast.copy()
    for col in ("t", "p_t", "wilcoxon_w", "p_wilcoxon", "dz", "diff_ci_low", "df"):
        contrast[col] = None
    contrast["sd_diff"] = float("nan")
    page = build_report(dataclasses.replace(study, contrast=contrast))[REPORT_FILE].decode("utf-8")
    row = next(r for r in visible(page).cells if len(r) == 12 and r[0] == "cpmsequential")
    assert row[7:] == ["n/a"] * 5 and "[" not in row[6]


def test_a_table_without_the_schema_columns_is_a_clear_error_and_writes_nothing(
    study: ScoredDataset, tmp_path: Path
) -> None:
    """A groups table lacking ci_low (an older layout) raises CpmlabError naming it; the earlier report stays."""
    path = write_report(study)
    before = path.read_bytes()
    old = dataclasses.replace(study, groups=study.groups.drop(columns=["ci_low"]))
    with pytest.raises(CpmlabError, match="the groups table has no column ci_low"):
        write_report(old)
    assert path.read_bytes() == before


def test_two_rating_ranges_in_one_paradigm_get_separate_figures(tmp_path: Path) -> None:
    """VAS and NRS sessions of one task are never drawn together: one set of figures per range."""
    specs = [
        session_spec("01", "1", "active", {"before": [50.0, 54.0], "after": [40.0, 41.0]}, [6.0], task="cpmsequential"),
        session_spec(
            "02",
            "1",
            "active",
            {"before": [5.0, 6.0], "after": [4.0, 3.0]},
            [6.0],
            task="cpmsequential",
            ts_scale="nrs",
        ),
    ]
    files = build_report(scored_with_schema(write_specs(tmp_path / "mixed", specs)))
    index = pd.read_csv(pd.io.common.BytesIO(files[FIGURE_INDEX]), sep="\t")
    assert set(index["png"]) == {
        "lines_task-cpmsequential_range-0-10.png",
        "lines_task-cpmsequential_range-0-100.png",
        "effects_task-cpmsequential_range-0-10.png",
        "effects_task-cpmsequential_range-0-100.png",
    }
    nrs = index[index["png"].str.contains("range-0-10\\.")]
    assert nrs["caption"].str.contains("ratings on the 0-10 range").all() and (nrs["n"] == 1).all()
