"""Where a session's files live in a BIDS dataset, and the refusal to overwrite one."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cpmlab.core.errors import CpmlabError, SessionExistsError
from cpmlab.core.labels import validate_label, validate_run


@dataclass(frozen=True)
class SessionPaths:
    """File locations of one run of one session of one participant."""

    root: Path
    participant: str
    session: str
    task: str
    run: int

    @classmethod
    def create(cls, root: str | Path, participant: str, session: str, task: str, run: int | str = 1) -> SessionPaths:
        """Validate the labels (BIDS: letters and digits only) and build the paths."""
        return cls(
            Path(root).resolve(),
            validate_label("participant", participant),
            validate_label("session", session),
            validate_label("task", task),
            validate_run(run),
        )

    @property
    def stem(self) -> str:
        """sub-X_ses-Y_task-T_run-N."""
        return f"sub-{self.participant}_ses-{self.session}_task-{self.task}_run-{self.run}"

    @property
    def beh_dir(self) -> Path:
        """sub-X/ses-Y/beh."""
        return self.root / f"sub-{self.participant}" / f"ses-{self.session}" / "beh"

    @property
    def source_dir(self) -> Path:
        """sourcedata/cpmlab/sub-X/ses-Y: journal, protocol copy, session metadata."""
        return self.root / "sourcedata" / "cpmlab" / f"sub-{self.participant}" / f"ses-{self.session}"

    @property
    def journal(self) -> Path:
        """The append-only journal of this run."""
        return self.source_dir / f"{self.stem}_journal.jsonl"

    @property
    def failed_starts_dir(self) -> Path:
        """sourcedata/cpmlab/failed-starts: journals of starts that failed before the session began."""
        return self.root / "sourcedata" / "cpmlab" / "failed-starts"

    @property
    def protocol_copy(self) -> Path:
        """The protocol file exactly as run."""
        return self.source_dir / f"{self.stem}_protocol.yaml"

    def bids_file(self, suffix: str, ext: str, recording: str | None = None) -> Path:
        """Path of a BIDS file in beh/ (e.g. suffix 'events', ext '.tsv')."""
        rec = f"_recording-{recording}" if recording else ""
        return self.beh_dir / f"{self.stem}{rec}_{suffix}{ext}"

    def existing(self) -> list[Path]:
        """Files that show this participant/session/run was already recorded."""
        found = [self.journal] if self.journal.exists() else []
        if self.beh_dir.is_dir():
            found += sorted(self.beh_dir.glob(f"{self.stem}_*"))
        return found

    def check_root(self) -> None:
        """Raise CpmlabError unless the data folder is, or can be created as, a writable folder; writes nothing."""
        check_data_folder(self.root)

    def refuse_existing(self) -> None:
        """Raise SessionExistsError if anything of this run exists already."""
        found = self.existing()
        if found:
            raise SessionExistsError(
                f"sub-{self.participant} ses-{self.session} task-{self.task} run-{self.run} already exists "
                f"in {self.root} ({found[0].name}); existing sessions are never overwritten: "
                f"choose another --session or --run, or another --data folder"
            )


def _kind(mode: int) -> str:
    """Name what a non-folder file system entry is, for people."""
    kinds = (
        (stat.S_ISREG, "a file"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a folder")


def check_data_folder(root: Path) -> None:
    """Raise CpmlabError unless root is a writable folder or can be made one (nothing is created or opened)."""
    probe = root
    while not os.path.lexists(probe) and probe != probe.parent:  # the nearest entry that exists
        probe = probe.parent
    try:
        mode = os.stat(probe).st_mode  # follows links; a FIFO or device is never opened
    except OSError:
        raise CpmlabError(f"data folder {root}: {probe} is a link to nothing; choose a folder") from None
    if not stat.S_ISDIR(mode):
        what = f"data folder {root} is" if probe == root else f"data folder {root}: {probe} is in the way, it is"
        raise CpmlabError(f"{what} {_kind(mode)}, not a folder; choose a folder (a missing one is created)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CpmlabError(f"data folder {root}: no permission to write in {probe}; choose another folder")
