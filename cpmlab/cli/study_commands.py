"""`cpmlab study`: check a study file, print its state, enrol participants and run their next visit."""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

from cpmlab.cli.commands import EXIT_CODES, _report, run_session, spec_from_args
from cpmlab.core.errors import CpmlabError
from cpmlab.labconfig import load_lab_config
from cpmlab.study.loader import LoadedStudy, StudyError, load_study
from cpmlab.study.participants import enrol, participants
from cpmlab.study.plan import NextVisit, StudyStateError, next_visit
from cpmlab.study.status import status_rows


def _load(args: argparse.Namespace) -> tuple[LoadedStudy, Path]:
    lab = load_lab_config(args.config)
    loaded = load_study(args.study, lab.safety_limits())
    return loaded, Path(getattr(args, "data", None) or lab.data or "cpmlab-data").expanduser().resolve()


def _fields(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CpmlabError(f"--field {item!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a study file and every protocol it names."""
    lab_limits = load_lab_config(args.config).safety_limits() if args.config else None
    try:
        loaded = load_study(args.study, lab_limits)
    except StudyError as exc:
        print(f"INVALID {args.study}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    study = loaded.study
    print(f"OK {loaded.path}: {study.title}")
    if study.conditions:
        scheme = study.counterbalance
        print(f"  conditions {', '.join(study.conditions)}: {scheme.scheme}, seed {scheme.seed}")
    for visit in study.visits:
        protocols = ", ".join(f"{c or 'all'}: {p.name}" for (v, c), p in loaded.protocols.items() if v == visit.id)
        carry = "; ".join(f"{n} <- {c.from_visit}.{c.variable}" for n, c in visit.carry.items())
        print(f"  {visit.id} (ses-{visit.session}) {protocols}" + (f"; carries {carry}" if carry else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print the participants-by-visits table read from the data folder."""
    try:
        loaded, root = _load(args)
    except StudyError as exc:
        raise CpmlabError(f"invalid study file:\n{exc}") from None
    header, rows = status_rows(loaded, root)
    print(f"study {loaded.study.name}: {loaded.study.title}\ndata: {root}")
    if not rows:
        print(f"no participants enrolled yet (cpmlab study add {args.study} -p LABEL --data {root})")
        return 0
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Enrol a participant: write their fields and counterbalanced condition order to participants.tsv."""
    try:
        loaded, root = _load(args)
    except StudyError as exc:
        raise CpmlabError(f"invalid study file:\n{exc}") from None
    p = enrol(loaded.study, root, args.participant, _fields(args.field))
    order = " then ".join(p.order or ()) or "no conditions"
    print(f"enrolled sub-{p.label} in {loaded.study.name} ({root}/participants.tsv): {order}")
    return 0


def describe_next(loaded: LoadedStudy, nv: NextVisit) -> str:
    """Return the lines shown before a visit runs: visit, condition, protocol, run and carried values."""
    lines = [f"sub-{nv.participant.label}, study {loaded.study.name}: visit {nv.visit.id} (ses-{nv.visit.session})"]
    if nv.visit.title:
        lines[0] += f" - {nv.visit.title}"
    if nv.condition is not None:
        lines.append(f"  condition: {nv.condition} (order: {' then '.join(nv.participant.order or ())})")
    lines.append(f"  protocol:  {nv.protocol.name} ({nv.protocol_path})")
    lines.append(
        f"  run:       {nv.run}" + (f" (run(s) {', '.join(map(str, nv.repeats))} ended early)" if nv.repeats else "")
    )
    for c in nv.carried:
        lines.append(
            f"  carried:   {c.name} = {c.value} (from visit {c.from_visit} run {c.from_run}, {c.from_variable})"
        )
    return "\n".join(lines)


def cmd_next(args: argparse.Namespace) -> int:
    """Show a participant's next visit, then run it through the normal session path."""
    try:
        loaded, root = _load(args)
    except StudyError as exc:
        raise CpmlabError(f"invalid study file:\n{exc}") from None
    fields = _fields(args.field)
    if args.enrol and not any(
        p.label == args.participant and p.order is not None for p in participants(loaded.study, root)
    ):
        p = enrol(loaded.study, root, args.participant, fields)
        print(f"enrolled sub-{p.label}: {' then '.join(p.order or ()) or 'no conditions'}")
    elif fields:
        raise CpmlabError(
            "--field is for enrolling (with --enrol a new participant); participants.tsv is never edited here"
        )
    lab_limits = load_lab_config(args.config).safety_limits()
    try:
        nv = next_visit(loaded, root, args.participant, lab_limits)
    except StudyStateError as exc:
        print(f"cpmlab: {exc}", file=sys.stderr)
        return 2
    if nv is None:
        print(f"sub-{args.participant} has done every visit of {loaded.study.name}")
        return 0
    seed = args.seed if args.seed is not None else zlib.crc32(f"{nv.participant.label}:{nv.visit.id}".encode())
    print(describe_next(loaded, nv) + f"\n  seed:      {seed}", flush=True)
    if args.dry_run:
        return 0
    spec = spec_from_args(
        args,
        data_root=root,
        protocol_path=nv.protocol_path,
        participant=nv.participant.label,
        session=nv.visit.session,
        run=nv.run,
        variables=nv.variables,
        metadata=nv.metadata(loaded.study.name),
        seed=seed,
    )
    result = run_session(spec)
    _report(result)
    return EXIT_CODES[result.outcome]
