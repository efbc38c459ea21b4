"""The `cpmlab study` subcommands' arguments (argparse only; the work is in study_commands)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def _cmd(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from cpmlab.cli import study_commands

        return int(getattr(study_commands, f"cmd_{name}")(args))

    return run


def add_study_parser(sub: Any, add_run_options: Callable[..., None]) -> None:
    """Add `cpmlab study` with its status, next, add and check subcommands."""
    p = sub.add_parser(
        "study",
        help="run a multi-visit study: status, next visit, enrol participants",
        description="Studies (study YAML files) run several visits per participant; their state is read "
        "from the data folder.",
    )
    study = p.add_subparsers(dest="study_command", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("study", help="study YAML file (or the name of a shipped study, e.g. cpm_active_sham)")
        q.add_argument("--data", help="BIDS dataset folder (default: lab config 'data', else ./cpmlab-data)")
        q.add_argument("--config", help="lab config file (default: the user's config dir, or $CPMLAB_CONFIG)")

    q = study.add_parser("check", help="validate a study file and the protocols it names")
    q.add_argument("study", help="study YAML file (or the name of a shipped study)")
    q.add_argument("--config", help="lab config whose limits apply too")
    q.set_defaults(func=_cmd("check"))

    q = study.add_parser("status", help="print the participants-by-visits table")
    common(q)
    q.set_defaults(func=_cmd("status"))

    q = study.add_parser("add", help="enrol a participant with the study's fields and condition order")
    common(q)
    q.add_argument("--participant", "-p", required=True, help="participant label (letters and digits)")
    q.add_argument(
        "--field", action="append", default=[], metavar="NAME=VALUE", help="a participant field, e.g. age=34"
    )
    q.set_defaults(func=_cmd("add"))

    q = study.add_parser(
        "next",
        help="run a participant's next visit (enrols them first if --enrol)",
        description="Show the participant's next visit (protocol, condition, carried variables), then run it.",
    )
    q.add_argument("study", help="study YAML file (or the name of a shipped study)")
    q.add_argument("--participant", "-p", required=True, help="participant label (letters and digits)")
    q.add_argument("--enrol", action="store_true", help="enrol the participant first if they are new")
    q.add_argument(
        "--field", action="append", default=[], metavar="NAME=VALUE", help="participant field when enrolling"
    )
    q.add_argument("--dry-run", action="store_true", help="only show what would run")
    add_run_options(q, labels=False)
    # without --seed each participant's visit gets its own fixed seed (randomised blocks, simulated participant)
    q.set_defaults(func=_cmd("next"), seed=None)
