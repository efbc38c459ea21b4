"""Run the official BIDS validator (bids-validator-deno, offline) and return its issues."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def validator_command() -> list[str]:
    """Return the validator command, or skip the test with the reason it is missing."""
    exe = Path(sys.executable).with_name("bids-validator-deno")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("bids-validator-deno")
    if found:
        return [found]
    pytest.skip("bids-validator-deno is not installed (pip install bids-validator-deno)")
    raise AssertionError  # unreachable


def validate(root: Path, *, recursive: bool = False) -> tuple[list[dict], list[dict]]:
    """Return (errors, warnings) the validator reports for the dataset at root."""
    cmd = [*validator_command(), str(root), "--format", "json"]
    if recursive:
        cmd.append("-r")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"validator gave no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
    issues = report["issues"]["issues"]
    errors = [i for i in issues if i["severity"] == "error"]
    warnings = [i for i in issues if i["severity"] == "warning"]
    return errors, warnings
