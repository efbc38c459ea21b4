"""A crash while the BIDS files are being written leaves a session that recover completes."""

from __future__ import annotations

from pathlib import Path

import pytest
from bids_validator import validate

from cpmlab.cli.main import main
from cpmlab.core.errors import SessionExistsError
from cpmlab.storage import bids
from cpmlab.storage.paths import SessionPaths


class CrashError(Exception):
    """The process dying in the middle of writing."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_recover_completes_a_session_whose_writing_crashed(tmp_path: Path, monkeypatch, capsys) -> None:
    """Two beh files written, the third torn (temporary file left): recover writes the rest and removes the leftover."""
    data = tmp_path / "d"
    args = ["run", "cpm_sequential", "-p", "01", "-s", "1", "--data", str(data), "--emulate", "--simulate"]
    real_write = bids.atomic_write
    calls: list[Path] = []

    def dying_write(path: Path, payload: bytes, *, overwrite: bool = False) -> None:
        if path.parent.name == "beh":
            calls.append(path)
        if len(calls) == 3 and path == calls[-1]:
            (path.parent / f".{path.name}.dead.tmp").write_bytes(payload[:10])  # a torn temporary file
            raise CrashError("killed while writing")
        real_write(path, payload, overwrite=overwrite)

    monkeypatch.setattr(bids, "atomic_write", dying_write)
    assert main([*args, "--speed", "60"]) != 0  # the session thread died while writing
    monkeypatch.setattr(bids, "atomic_write", real_write)
    paths = SessionPaths.create(data, "01", "1", "cpmsequential", 1)
    before = {p.name: p.read_bytes() for p in paths.beh_dir.iterdir() if not p.name.startswith(".")}
    assert len(before) == 2 and list(paths.beh_dir.glob(".*.tmp"))

    assert main(["recover", str(paths.journal)]) == 0
    assert not list(paths.beh_dir.glob(".*.tmp"))
    for name, content in before.items():
        assert (paths.beh_dir / name).read_bytes() == content  # complete files are kept, never rewritten
    for suffix in ("events.tsv", "events.json", "beh.tsv", "beh.json"):
        assert (paths.beh_dir / f"{paths.stem}_{suffix}").is_file()
    assert list(paths.beh_dir.glob("*_recording-thermode_stim.tsv.gz"))
    errors, _ = validate(data)
    assert errors == [], errors
    capsys.readouterr()
    with pytest.raises(SessionExistsError, match="nothing to recover"):
        bids.write_bids(paths, recovered=True)
