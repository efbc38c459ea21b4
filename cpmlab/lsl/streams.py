"""The LSL streams cpmlab publishes: names, types, channels, units, source ids, descriptions."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pylsl

MARKERS = "markers"
THERMODE = "thermode"
BATH = "bath"
RATING = "rating"

DEFAULT_RATING_HZ = 30.0
IDENTITY_FIELDS = (
    "participant",
    "session",
    "run",
    "protocol",
    "task",
    "condition",
    "software_version",
    "lab",
    "started",
)


@dataclass(frozen=True)
class Channel:
    """One channel of a stream: label, unit and type (XDF channel metadata)."""

    label: str
    unit: str
    type: str


@dataclass(frozen=True)
class StreamSpec:
    """What one cpmlab stream looks like on the network."""

    key: str
    name: str
    type: str
    channels: tuple[Channel, ...]
    channel_format: str
    nominal_rate_hz: float
    description: str


def _temps(labels: tuple[str, ...]) -> tuple[Channel, ...]:
    return tuple(Channel(label, "degC", "Temperature") for label in labels)


SPECS: dict[str, StreamSpec] = {
    MARKERS: StreamSpec(
        MARKERS,
        "cpmlab-markers",
        "Markers",
        (Channel("event", "", "Marker"),),
        "string",
        0.0,
        "every session event as NAME {json}; see docs/lsl.md",
    ),
    THERMODE: StreamSpec(
        THERMODE,
        "cpmlab-thermode",
        "Temperature",
        _temps(("neutral", "zone1", "zone2", "zone3", "zone4", "zone5")),
        "float32",
        100.0,
        "thermode probe temperatures: neutral (baseline) and zones 1-5 (NaN: zone not reported)",
    ),
    BATH: StreamSpec(
        BATH, "cpmlab-bath", "Temperature", _temps(("bath",)), "float32", 1.0, "cold-pressor bath water temperature"
    ),
    RATING: StreamSpec(
        RATING,
        "cpmlab-rating",
        "Rating",
        (Channel("rating", "rating units", "Rating"),),
        "float32",
        DEFAULT_RATING_HZ,
        "continuous pain rating (VAS 0-100 or NRS 0-10; NaN: no position)",
    ),
}


def host_name() -> str:
    """Return this machine's short host name."""
    return socket.gethostname().split(".")[0] or "localhost"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-") or "unnamed"


def source_id(lab: str, key: str, host: str | None = None) -> str:
    """Return the stable source id of a stream: lab, host and stream key, so receivers reconnect."""
    return f"cpmlab.{_slug(lab)}.{_slug(host or host_name())}.{key}"


def build_info(
    spec: StreamSpec,
    identity: Mapping[str, Any],
    *,
    lab: str,
    host: str | None = None,
    nominal_rate_hz: float | None = None,
) -> pylsl.StreamInfo:
    """Return the StreamInfo of a stream, with channel labels and units and the session identity."""
    rate = spec.nominal_rate_hz if nominal_rate_hz is None else nominal_rate_hz
    info = pylsl.StreamInfo(
        spec.name, spec.type, len(spec.channels), rate, spec.channel_format, source_id(lab, spec.key, host)
    )
    desc = info.desc()
    desc.append_child_value("manufacturer", "cpmlab")
    desc.append_child_value("description", spec.description)
    channels = desc.append_child("channels")
    for ch in spec.channels:
        node = channels.append_child("channel")
        node.append_child_value("label", ch.label)
        node.append_child_value("unit", ch.unit)
        node.append_child_value("type", ch.type)
    session = desc.append_child("session")
    for name in IDENTITY_FIELDS:
        value = identity.get(name)
        if value is not None:
            session.append_child_value(name, str(value))
    if spec.key == MARKERS:
        desc.append_child_value("vocabulary", "NAME {json}: cpmlab marker vocabulary 1 (docs/lsl.md)")
    return info


def describe(info: pylsl.StreamInfo) -> dict[str, Any]:
    """Return a stream's identity (name, type, uid, source id, host, rate) as a JSON-able dict."""
    return {
        "name": info.name(),
        "type": info.type(),
        "uid": info.uid(),
        "source_id": info.source_id(),
        "hostname": info.hostname(),
        "channel_count": info.channel_count(),
        "nominal_rate_hz": info.nominal_srate(),
        "session_id": info.session_id(),
    }
