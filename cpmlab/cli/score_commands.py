"""The score and report subcommands: compute CPM scores into derivatives/cpmlab and render the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from cpmlab.core.errors import CpmlabError


def _options(args: argparse.Namespace, dataset: Path) -> object:
    from cpmlab.scoring.options import SIGNS, ScoringOptions, parse_session_pair

    previous: dict[str, object] = {}
    if getattr(args, "reuse_previous", False):
        from cpmlab.scoring.derivatives import previous_options

        previous = previous_options(dataset)
    sign = args.sign or previous.get("sign") or "inhibition-negative"
    if sign not in SIGNS:
        raise CpmlabError(f"unknown sign convention {sign!r}; use one of {', '.join(SIGNS)}")
    normalise = bool(args.normalise_nrs or previous.get("normalise_nrs", False))
    pair_text = getattr(args, "retest_sessions", None)
    previous_pair = previous.get("retest_sessions")
    if pair_text is not None:
        pair: tuple[str, str] | None = parse_session_pair(pair_text)
    elif isinstance(previous_pair, list) and len(previous_pair) == 2:
        pair = parse_session_pair(",".join(str(p) for p in previous_pair))
    else:
        pair = None
    return ScoringOptions(sign=sign, normalise_nrs=normalise, retest_sessions=pair)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _summary_lines(scored: object) -> list[str]:
    from cpmlab.scoring.report_format import (
        HEADLINE_MEASURES,
        condition_label,
        integer,
        number,
        ordered,
        percent,
        task_labels,
        text,
        with_interval,
    )

    s = scored.sessions  # type: ignore[attr-defined]
    labels = task_labels(s)
    lines = [
        f"{_count(s['participant_id'].nunique(), 'participant')}, {_count(len(s), 'run')} in "
        f"{_count(len(labels), 'paradigm')} "
        f"({', '.join(labels)}); {_count(int(s['flags'].notna().sum()), 'run')} with flags (see cpm_sessions.tsv)"
    ]
    g = scored.groups  # type: ignore[attr-defined]
    g = g[g["measure"].isin(HEADLINE_MEASURES)] if not g.empty else g
    if g.empty:
        lines.append("no CPM effects could be computed (no test-stimulus ratings before and with conditioning)")
        return lines
    keys = [k for k in ("task", "condition", "measure", "range") if k in g.columns]
    lines.append(
        f"{'paradigm':<15} {'condition':<10} {'measure':<10} {'range':<6} {'n':>4}  {'mean [95% CI]':<24} "
        f"{'median':>7} {'inhib.':>6}"
    )
    for _, r in ordered(g, keys).iterrows():
        mean = with_interval(r.get("mean"), r.get("ci_low"), r.get("ci_high"))
        lines.append(
            f"{text(r.get('task')):<15} {condition_label(r.get('condition')):<10} {text(r['measure']):<10} "
            f"{text(r['range']):<6} {integer(r['n']):>4}  {mean:<24} {number(r['median']):>7} "
            f"{percent(r['prop_inhibition']):>6}"
        )
    lines.append(scored.options.sign_text())  # type: ignore[attr-defined]
    return lines


def _score(
    args: argparse.Namespace,
    dataset: Path,
    progress: object,
    raw: object = None,
    after_runs: object = None,
    options: object = None,
) -> object:
    from cpmlab.scoring.cache import cache_dir
    from cpmlab.scoring.pipeline import score_dataset

    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise CpmlabError(f"--jobs must be at least 1, not {jobs}")
    cache = None if getattr(args, "no_cache", False) else cache_dir(dataset.resolve())
    return score_dataset(
        dataset,
        options or _options(args, dataset),  # type: ignore[arg-type]
        jobs=jobs,
        progress=progress,  # type: ignore[arg-type]
        cache_dir=cache,
        raw=raw,  # type: ignore[arg-type]
        after_runs=after_runs,  # type: ignore[arg-type]
    )


def cmd_score(args: argparse.Namespace) -> int:
    """Score every run of a dataset and write derivatives/cpmlab and derivatives/cpmlab-group."""
    from cpmlab.scoring.prescan import Prescan  # light: started before pandas is imported

    dataset = Path(args.dataset)
    options = _options(args, dataset)
    # with the cache (a re-score), the file checks run in the background while pandas loads
    use_prescan = not getattr(args, "no_cache", False) and dataset.is_dir()
    prescan = Prescan(dataset.resolve(), options.as_dict()) if use_prescan else None  # type: ignore[attr-defined]

    from cpmlab.cli.score_progress import TerminalProgress
    from cpmlab.scoring.derivatives import RunFolderWriter, derivative_root, group_root, write_derivatives
    from cpmlab.scoring.file_sync import TreeScan
    from cpmlab.scoring.pipeline import ScoredDataset

    writers: list[RunFolderWriter] = []
    scans: list[TreeScan] = []

    def start_writer(partial: ScoredDataset) -> None:
        # the per-run files are written in the background while the group tables are computed
        if prescan is None:
            writers.append(RunFolderWriter(partial))
            return
        scans.append(prescan.group_scan())  # read here before the writer takes over the pipe
        writers.append(RunFolderWriter(partial, prescan.run_scan))
        if writers[0].forked:
            prescan.release()  # the writer reads the per-run folder's scan itself

    try:
        with TerminalProgress() as progress:
            scored = _score(args, dataset, progress, prescan.raw if prescan else None, start_writer, options)
            progress.step("writing derivatives")
            written = write_derivatives(
                scored,  # type: ignore[arg-type]
                scans=scans or None,
                run_folder=writers[0] if writers else None,
            )
    finally:
        if prescan is not None:
            prescan.close()
    print("\n".join(_summary_lines(scored)))
    print(f"wrote {len(written)} files")
    print(f"per-run scores (BIDS derivative): {derivative_root(scored.root)}")
    print(f"tables of the whole dataset: {group_root(scored.root)}")
    print(f"write the report with: cpmlab report {dataset}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Score the dataset afresh, write the tables and the HTML report with its figures; print its path."""
    from cpmlab.cli.score_progress import TerminalProgress
    from cpmlab.scoring.report import write_report

    dataset = Path(args.dataset)
    args.reuse_previous = True
    with TerminalProgress() as progress:
        scored = _score(args, dataset, progress)
        progress.step("report")
        path = write_report(scored, on_step=progress.step)  # type: ignore[arg-type]
    print(path)
    return 0
