"""LSL for one prepared session: which streams, the bridge, and the XDF recorder around the run."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from cpmlab.core.errors import CpmlabError
from cpmlab.core.events import EventBus
from cpmlab.lsl import streams as st
from cpmlab.lsl.bridge import LslBridge
from cpmlab.lsl.recorder import XdfRecorder
from cpmlab.protocol.model import Protocol
from cpmlab.storage.paths import SessionPaths

log = logging.getLogger(__name__)


def xdf_path(paths: SessionPaths) -> Path:
    """Return sourcedata/cpmlab/sub-X/ses-Y/<stem>_lsl.xdf."""
    return paths.source_dir / f"{paths.stem}_lsl.xdf"


def make_bridge(protocol: Protocol, lab: str, bus: EventBus) -> LslBridge:
    """Return a bridge with the streams this protocol uses (markers always)."""
    keys = [st.MARKERS]
    if "thermode" in protocol.devices:
        keys.append(st.THERMODE)
    if "cold_pressor" in protocol.devices:
        keys.append(st.BATH)
    rates = protocol.continuous_rating_rates_hz()
    if rates:
        keys.append(st.RATING)
    return LslBridge(lab, streams=keys, rating_rate_hz=max(rates) if rates else None, bus=bus)


def open_bridge(bridge: LslBridge, protocol: Protocol, metadata: dict[str, Any]) -> dict[str, Any]:
    """Create the outlets before the run (so receivers connect in time); return the 'lsl' metadata."""
    identity = {**metadata, "protocol": protocol.name, "task": protocol.task, "condition": protocol.condition}
    return {"streams": bridge.open(identity)}


def start_recording(
    paths: SessionPaths, bridge: LslBridge | None, select: list[str], metadata: dict[str, Any]
) -> XdfRecorder:
    """Start recording the session's streams and the selected ones; note the file in the metadata."""
    path = xdf_path(paths)
    uids = [s["uid"] for s in bridge.streams] if bridge is not None else []
    if not uids and not select:
        raise CpmlabError("--record with --no-lsl: name the streams to record with --record-stream")
    recorder = XdfRecorder(path, uids=uids, select=select)
    recorded = recorder.start()
    lsl_meta = metadata.setdefault("lsl", {"streams": []})
    lsl_meta["recording"] = {"file": os.path.relpath(path, paths.root), "streams": recorded}
    return recorder


def stop_recording(recorder: XdfRecorder | None) -> None:
    """Stop the recorder (drains samples in flight); never raises."""
    if recorder is None:
        return
    try:
        recorder.stop()
    except Exception:
        log.exception("stopping the LSL recorder failed")
