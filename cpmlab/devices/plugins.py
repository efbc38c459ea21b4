"""Driver and emulator discovery through Python entry points.

A driver plugin is an entry point in the group ``cpmlab.drivers`` whose object is a
:class:`DriverSpec`; an emulator plugin is an entry point in ``cpmlab.hardware_mocks``
whose object is an :class:`EmulatorSpec`. Labs ship their own drivers as separate
packages declaring the same entry points. Plugin code is imported lazily, and a plugin
that fails to import is reported, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

DRIVER_GROUP = "cpmlab.drivers"
EMULATOR_GROUP = "cpmlab.hardware_mocks"

DeviceKind = Literal["thermode", "cold_pressor", "rating_source"]
TransportKind = Literal["serial", "tcp"]


@dataclass(frozen=True)
class DriverSpec:
    """What a driver plugin declares: kind, model, transport and how to build it."""

    name: str
    kind: DeviceKind
    model: str
    transport: TransportKind
    factory: Callable[..., Any]  # factory(transport, **options) -> device
    serial_settings: dict[str, Any] = field(default_factory=dict)
    default_port: str | None = None
    emulator: str | None = None  # name of the matching emulator plugin
    probe: Callable[[Any], str | None] | None = None  # probe(transport) -> identity or None
    description: str = ""
    # Options the emulator needs to behave like the unit this driver expects by default
    # (e.g. the serial framing); driver options with the same names override them.
    emulator_options: dict[str, Any] = field(default_factory=dict)


class RunningEmulator(Protocol):
    """A started emulator: where to connect, and its control surface."""

    port: str  # serial path (/dev/pts/N) or host:port

    def set_fault(self, fault: str | None, **params: Any) -> None:
        """Switch a fault on (unplug, silence, garbage, slow, split, alarm) or off (None)."""
        ...

    def close(self) -> None:
        """Stop the emulator and release its port."""
        ...


@dataclass(frozen=True)
class EmulatorSpec:
    """What an emulator plugin declares."""

    name: str
    kind: DeviceKind
    model: str
    start: Callable[..., RunningEmulator]  # start(time_scale=1.0, fault=None, **options)
    faults: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    group: str
    name: str
    value: str
    error: str


@dataclass
class PluginRegistry:
    """Loaded plugins of one group plus the ones that failed to load."""

    specs: dict[str, Any] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def get(self, name: str) -> Any:
        """Return the spec called name, or raise KeyError listing what is available."""
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "none"
            broken = [f.name for f in self.failures if f.name == name]
            hint = f" (it is installed but failed to load: {self.failures[0].error})" if broken else ""
            raise KeyError(f"no plugin named {name!r}{hint}; available: {known}")
        return self.specs[name]


def _load_group(group: str, expected: type, eps: list[EntryPoint] | None = None) -> PluginRegistry:
    registry = PluginRegistry()
    for ep in eps if eps is not None else entry_points(group=group):
        try:
            obj = ep.load()
            if not isinstance(obj, expected):
                raise TypeError(f"entry point object is {type(obj).__name__}, not {expected.__name__}")
            if obj.name != ep.name:
                raise ValueError(f"spec name {obj.name!r} differs from entry point name {ep.name!r}")
        except Exception as exc:  # a broken plugin is reported, never fatal
            log.warning("plugin %s in %s failed to load: %s", ep.name, group, exc)
            registry.failures.append(PluginFailure(group, ep.name, ep.value, f"{type(exc).__name__}: {exc}"))
            continue
        registry.specs[ep.name] = obj
    return registry


def load_drivers(eps: list[EntryPoint] | None = None) -> PluginRegistry:
    """Load every installed driver plugin (or the given entry points)."""
    return _load_group(DRIVER_GROUP, DriverSpec, eps)


def load_emulators(eps: list[EntryPoint] | None = None) -> PluginRegistry:
    """Load every installed emulator plugin (or the given entry points)."""
    return _load_group(EMULATOR_GROUP, EmulatorSpec, eps)
