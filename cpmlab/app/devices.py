"""Open the devices a session uses: real ports, or emulators started for the session."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpmlab.app.transport import open_transport
from cpmlab.core.errors import CpmlabError
from cpmlab.core.vocabulary import nest_undeclared
from cpmlab.devices.plugins import DriverSpec, PluginRegistry, load_drivers, load_emulators

log = logging.getLogger(__name__)

ROLES = ("thermode", "cold_pressor")
DEFAULT_DRIVERS = {"thermode": "tcs2", "cold_pressor": "julabo"}
ROLE_KIND = {"thermode": "thermode", "cold_pressor": "cold_pressor", "bath": "cold_pressor"}


@dataclass(frozen=True)
class DeviceAssignment:
    """Which driver serves a role, and on which port (None: start its emulator)."""

    role: str
    driver: str
    port: str | None = None

    @classmethod
    def parse(cls, text: str) -> DeviceAssignment:
        """Parse 'role=driver:port' (e.g. thermode=tcs2:/dev/ttyUSB0) or 'role=driver'."""
        role, sep, rest = text.partition("=")
        if not sep or not rest:
            raise CpmlabError(f"--device {text!r}: expected ROLE=DRIVER:PORT, e.g. thermode=tcs2:/dev/ttyUSB0")
        role = {"bath": "cold_pressor"}.get(role.strip(), role.strip())
        if role not in ROLES:
            raise CpmlabError(f"--device {text!r}: unknown role {role!r}; roles: {', '.join(ROLES)} (or bath)")
        driver, _, port = rest.partition(":")
        return cls(role, driver.strip(), port.strip() or None)


@dataclass
class OpenDevices:
    """Devices opened for one session, and everything that must be closed after it."""

    devices: dict[str, Any] = field(default_factory=dict)
    specs: dict[str, DriverSpec] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    emulators: dict[str, Any] = field(default_factory=dict)
    _transports: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Close every device, transport and emulator; never raises."""
        for device in self.devices.values():
            with contextlib.suppress(Exception):
                device.close()
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.close()
        for emulator in self.emulators.values():
            with contextlib.suppress(Exception):
                emulator.close()

    def describe(self) -> dict[str, dict[str, Any]]:
        """Return what was opened, for the session metadata."""
        return {
            role: {
                "driver": self.specs[role].name,
                "model": self.specs[role].model,
                "port": self.ports[role],
                "emulated": role in self.emulators,
            }
            for role in self.devices
        }


def open_devices(
    roles: list[str],
    assignments: list[DeviceAssignment],
    *,
    emulate: bool,
    event_sink: Callable[..., None] | None,
    time_scale: float = 1.0,
    emulator_options: dict[str, dict[str, Any]] | None = None,
    driver_options: dict[str, dict[str, Any]] | None = None,
    drivers: PluginRegistry | None = None,
    emulators: PluginRegistry | None = None,
) -> OpenDevices:
    """Open a driver per role over its port, starting emulators where asked; close all on failure."""
    drivers = drivers or load_drivers()
    given = {a.role: a for a in assignments}
    opened = OpenDevices()
    try:
        for role in roles:
            assignment = given.get(role) or DeviceAssignment(role, DEFAULT_DRIVERS[role])
            try:
                spec: DriverSpec = drivers.get(assignment.driver)
            except KeyError as exc:
                raise CpmlabError(str(exc).strip('"')) from None
            if spec.kind != ROLE_KIND[role]:
                raise CpmlabError(f"driver {spec.name!r} drives a {spec.kind}, not a {role}")
            port = assignment.port
            if port is None:
                if not emulate:
                    raise CpmlabError(
                        f"no port for the {role}: pass --device {role}={spec.name}:PORT, set it in the lab "
                        f"config, or use --emulate"
                    )
                registry = emulators or load_emulators()
                emulator_spec = registry.get(spec.emulator or spec.name)
                drv_opts = (driver_options or {}).get(role, {})
                # Where there are no pseudo-terminals (Windows) serial emulators serve loopback TCP.
                platform_options = {} if hasattr(os, "openpty") or spec.transport != "serial" else {"tcp": True}
                options = {
                    **platform_options,
                    **spec.emulator_options,
                    **{k: v for k, v in drv_opts.items() if k in spec.emulator_options},
                    **(emulator_options or {}).get(role, {}),
                }
                emulator = emulator_spec.start(time_scale=time_scale, **options)
                opened.emulators[role] = emulator
                port = emulator.port
            transport = open_transport(spec, port)
            opened._transports.append(transport)
            sink = None
            if event_sink is not None:

                def sink(kind: str, _role: str = role, **data: Any) -> None:
                    # driver-specific fields (parsed replies) travel in the declared "fields" dict
                    event_sink(kind, **nest_undeclared(kind, {**data, "device": _role}))

            device = spec.factory(transport, event_sink=sink, **(driver_options or {}).get(role, {}))
            opened.devices[role] = device
            opened.specs[role] = spec
            opened.ports[role] = port
    except BaseException:
        opened.close()
        raise
    return opened
