"""Stored lines of a table's blocks: the output is always the whole table's TSV; only changed blocks are formatted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpmlab.scoring.block_lines import format_blocks
from cpmlab.scoring.derivatives import tsv_bytes


def _table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"sub-{i:03d}" for i in range(6) for _ in range(3)]
    sd = [None if i % 4 == 0 else float(v) for i, v in enumerate(rng.normal(size=18))]
    return pd.DataFrame(
        {
            "participant_id": ids,
            "measure": ["a", "b", "c"] * 6,
            "n": rng.integers(1, 4, size=18),
            "mean": rng.normal(size=18) * 1e3 / 7,
            "sd": sd,
        }
    )


@pytest.fixture
def formatted() -> tuple[list[int], Callable[[pd.DataFrame], bytes]]:
    """A formatter that records how many rows each call gets."""
    sizes: list[int] = []

    def counting(frame: pd.DataFrame) -> bytes:
        sizes.append(len(frame))
        return tsv_bytes(frame)

    return sizes, counting


def test_the_output_is_the_whole_tables_tsv_and_only_changed_blocks_are_formatted(
    tmp_path: Path, formatted: tuple[list[int], Callable[[pd.DataFrame], bytes]]
) -> None:
    """First call formats every block; the next formats only the participant whose key changed."""
    sizes, to_tsv = formatted
    frame, path = _table(), tmp_path / "lines.parquet"
    keys = {f"sub-{i:03d}": f"k{i}" for i in range(6)}
    assert format_blocks(frame, "participant_id", keys, to_tsv, path) == tsv_bytes(frame)
    sizes.clear()
    changed = frame.copy()
    changed.loc[changed["participant_id"] == "sub-002", "mean"] = 1 / 3
    keys["sub-002"] = "k2-new"
    assert format_blocks(changed, "participant_id", keys, to_tsv, path) == tsv_bytes(changed)
    assert sizes == [0, 3]  # the header, then the three rows of sub-002


def test_a_new_participant_and_a_dropped_one(tmp_path: Path) -> None:
    """Blocks added or removed since the lines were stored: still exactly the whole table's TSV."""
    frame, path = _table(), tmp_path / "lines.parquet"
    keys = {f"sub-{i:03d}": f"k{i}" for i in range(6)}
    format_blocks(frame, "participant_id", keys, tsv_bytes, path)
    fewer = frame[frame["participant_id"] != "sub-001"].reset_index(drop=True)
    assert format_blocks(fewer, "participant_id", keys, tsv_bytes, path) == tsv_bytes(fewer)
    more = pd.concat([frame, _table(1).assign(participant_id="sub-999").iloc[:2]], ignore_index=True)
    assert format_blocks(more, "participant_id", keys | {"sub-999": "k9"}, tsv_bytes, path) == tsv_bytes(more)


def test_scattered_ids_or_a_damaged_file_fall_back_to_formatting_all(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows of one id that are not consecutive, or garbage in the store: the table is formatted whole."""
    frame, path = _table(), tmp_path / "lines.parquet"
    keys = {f"sub-{i:03d}": f"k{i}" for i in range(6)}
    scattered = frame.sort_values("measure", kind="stable").reset_index(drop=True)
    assert format_blocks(scattered, "participant_id", keys, tsv_bytes, path) == tsv_bytes(scattered)
    path.write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING):
        assert format_blocks(frame, "participant_id", keys, tsv_bytes, path) == tsv_bytes(frame)
    assert "ignoring the formatted lines" in caplog.text
