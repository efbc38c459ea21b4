"""The score and report subcommands: compute CPM scores into derivatives/cpmlab and render the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from cpmlab.core.errors import CpmlabError


def _options(args: argparse.Namespace, dataset: Path) -> object:
    from cpmlab.scoring.derivatives import previous_options
    from cpmlab.scoring.options import SIGNS, ScoringOptions, parse_session_pair

    previous = previous_options(dataset) if getattr(args, "reuse_previous", False) else {}
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


def _summary_lines(scored: object) -> list[str]:
    s = scored.sessions  # type: ignore[attr-defined]
    lines = [
        f"{s['participant_id'].nunique()} participants, {len(s)} runs; "
        f"{int(s['flags'].notna().sum())} runs carry flags (see cpm_sessions.tsv)"
    ]
    g = scored.groups  # type: ignore[attr-defined]
    g = g[g["measure"].isin(["cpm_early", "cpm_late"])]
    if g.empty:
        lines.append("no CPM effects could be computed (no test-stimulus ratings before and with conditioning)")
        return lines
    lines.append(
        f"{'task':<14} {'condition':<9} {'measure':<10} {'range':<6} {'n':>5} {'mean':>8} {'95% CI':>15} "
        f"{'median':>8} {'inhib.':>6}"
    )

    def f(v: object, w: int, p: int = 1) -> str:
        return f"{'n/a':>{w}}" if v is None or v != v else f"{float(v):>{w}.{p}f}"

    for _, r in g.iterrows():
        ci = "n/a" if r["ci_low"] is None or r["ci_low"] != r["ci_low"] else f"{r['ci_low']:.1f} to {r['ci_high']:.1f}"
        lines.append(
            f"{r['task']:<14} {r['condition']:<9} {r['measure']:<10} {r['range']:<6} {int(r['n']):>5} "
            f"{f(r['mean'], 8)} {ci:>15} {f(r['median'], 8)} {f(r['prop_inhibition'], 6, 2)}"
        )
    lines.append(scored.options.sign_text())  # type: ignore[attr-defined]
    return lines


def _score(args: argparse.Namespace, dataset: Path, progress: object) -> object:
    from cpmlab.scoring.cache import cache_dir
    from cpmlab.scoring.pipeline import score_dataset

    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise CpmlabError(f"--jobs must be at least 1, not {jobs}")
    cache = None if getattr(args, "no_cache", False) else cache_dir(dataset.resolve())
    return score_dataset(
        dataset,
        _options(args, dataset),  # type: ignore[arg-type]
        jobs=jobs,
        progress=progress,  # type: ignore[arg-type]
        cache_dir=cache,
    )


def cmd_score(args: argparse.Namespace) -> int:
    """Score every run of a dataset and write derivatives/cpmlab."""
    from cpmlab.cli.score_progress import TerminalProgress
    from cpmlab.scoring.derivatives import derivative_root, write_derivatives

    dataset = Path(args.dataset)
    with TerminalProgress() as progress:
        scored = _score(args, dataset, progress)
        progress.step("writing derivatives")
        written = write_derivatives(scored)  # type: ignore[arg-type]
    print("\n".join(_summary_lines(scored)))
    print(f"wrote {len(written)} files to {derivative_root(scored.root)}")  # type: ignore[attr-defined]
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Score the dataset afresh and write the HTML report next to the tables."""
    import inspect

    from cpmlab.cli.score_progress import TerminalProgress
    from cpmlab.scoring.derivatives import REPORT_FILE, derivative_root, write_derivatives
    from cpmlab.scoring.report import render_html

    dataset = Path(args.dataset)
    args.reuse_previous = True
    with TerminalProgress() as progress:
        scored = _score(args, dataset, progress)
        progress.step("report")
        per_figure = {"on_step": progress.step} if "on_step" in inspect.signature(render_html).parameters else {}
        page = render_html(scored, **per_figure).encode("utf-8")  # type: ignore[arg-type]
        progress.step("writing derivatives")
        write_derivatives(scored, {REPORT_FILE: page})  # type: ignore[arg-type]
    print(derivative_root(scored.root) / REPORT_FILE)  # type: ignore[attr-defined]
    return 0
