"""The protocol loader never crashes or hangs: mutated files give a protocol or a located ProtocolError."""

from __future__ import annotations

import contextlib
import os
import time
import tracemalloc
from collections import Counter

import pytest
from protocol_fuzz import HOSTILE_EXPRESSIONS, HOSTILE_YAML, mutations

from cpmlab.core.errors import CpmlabError
from cpmlab.protocol.loader import ProtocolError, load_protocol, parse_protocol
from cpmlab.protocol.timeline import build_timeline
from cpmlab.protocol.yaml_source import MAX_PROTOCOL_BYTES

# CI-sized; the full 10,000-file run: CPMLAB_FUZZ_COUNT=10000 pytest tests/protocol/test_fuzz.py -s
FUZZ_COUNT = int(os.environ.get("CPMLAB_FUZZ_COUNT", "600"))
# The loader's own budget is one second per file; the test allows slack for a loaded CI machine.
SECONDS_PER_FILE = 3.0
PEAK_BYTES_PER_FILE = 64 * 1024 * 1024


def _outcome(text: str) -> str:
    """Load text; return 'accepted' or 'refused'; any other exception propagates as a crash."""
    try:
        protocol = parse_protocol(text, "fuzz.yaml")
    except ProtocolError as exc:
        assert exc.problems, "a ProtocolError must carry at least one problem"
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml"
            assert isinstance(problem.line, int) and problem.line >= 1, f"problem without a line: {problem}"
        return "refused"
    with contextlib.suppress(CpmlabError):  # a timeline that needs session variables says so, never crashes
        build_timeline(protocol)
    return "accepted"


def test_mutated_protocols_are_accepted_or_refused_with_file_and_line() -> None:
    """Seeded mutations (keys, types, NaN/inf/huge, long strings, aliases, tags, junk, hostile ${...})."""
    counts: Counter[str] = Counter()
    slowest = (0.0, "")
    tracemalloc.start()
    try:
        for i, (what, text) in enumerate(mutations(seed=20261201, count=FUZZ_COUNT)):
            tracemalloc.reset_peak()
            t0 = time.perf_counter()
            try:
                counts[_outcome(text)] += 1
            except Exception as exc:  # any other exception is the bug this test looks for
                pytest.fail(f"case {i} ({what}) crashed the loader: {type(exc).__name__}: {exc}\n{text[:500]!r}")
            elapsed = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1]
            slowest = max(slowest, (elapsed, f"case {i} ({what})"))
            assert elapsed < SECONDS_PER_FILE, f"case {i} ({what}) took {elapsed:.2f} s"
            assert peak < PEAK_BYTES_PER_FILE, f"case {i} ({what}) peaked at {peak / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()
    print(f"\nfuzz: {FUZZ_COUNT} files, {dict(counts)}, crashed 0, hung 0, slowest {slowest[0]:.3f} s ({slowest[1]})")
    assert counts["refused"] > 0 and sum(counts.values()) == FUZZ_COUNT


@pytest.mark.parametrize("text", HOSTILE_YAML, ids=range(len(HOSTILE_YAML)))
def test_hostile_yaml_is_refused_with_a_line(text: str) -> None:
    """Alias bombs, Python tags, deep nesting, non-text keys and binary junk are each refused."""
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "hostile.yaml")
    assert all(p.line is not None for p in info.value.problems), info.value


@pytest.mark.parametrize("expression", HOSTILE_EXPRESSIONS, ids=range(len(HOSTILE_EXPRESSIONS)))
def test_hostile_expressions_never_reach_a_stimulus(expression: str) -> None:
    """A hostile ${...} as a stimulus temperature is refused at load or when computed, never run."""
    text = (
        "name: x\nvariables:\n  ts_target_c: 45\nsteps:\n"
        f'  - type: thermal\n    target_c: "{expression}"\n    plateau_s: 5\n'
    )
    try:
        protocol = parse_protocol(text, "expr.yaml")
    except ProtocolError:
        return
    from cpmlab.protocol.values import ExpressionError, resolve

    with pytest.raises(ExpressionError):
        resolve(protocol.steps[0].target_c, {"ts_target_c": 45.0})


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e999", "nan", "inf"])
def test_non_finite_numbers_are_refused(value: str) -> None:
    """NaN and infinity never pass as a temperature (NaN compares false against every limit)."""
    text = f"name: x\nsteps:\n  - type: thermal\n    target_c: {value}\n    plateau_s: 5\n"
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "nan.yaml")
    assert "finite" in str(info.value) or "number" in str(info.value)


def test_a_device_or_fifo_is_refused_without_reading(tmp_path) -> None:
    """/dev/zero and a FIFO are refused at once instead of being read forever."""
    with pytest.raises(ProtocolError, match="not a regular file"):
        load_protocol("/dev/zero")
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ProtocolError, match="not a regular file"):
        load_protocol(fifo)


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path) -> None:
    """A file over the size cap is refused from its size alone."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(MAX_PROTOCOL_BYTES * 100)
    with pytest.raises(ProtocolError, match="at most"):
        load_protocol(big)
