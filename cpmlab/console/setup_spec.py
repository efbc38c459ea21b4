"""Turn the setup form's values into a SessionSpec, and into the console settings to remember."""

from __future__ import annotations

import dataclasses
from typing import Any

from cpmlab.app.devices import DeviceAssignment
from cpmlab.app.session import SessionSpec
from cpmlab.console.settings import ConsoleSettings
from cpmlab.console.setup_view import SetupValues
from cpmlab.labconfig import LabConfig


def session_spec(v: SetupValues, lab: LabConfig) -> SessionSpec:
    """Return the SessionSpec for the values chosen in the setup form."""
    assert v.protocol_path is not None and v.data_folder is not None
    emulated = [role for role, (_, port) in v.devices.items() if port is None]
    emulator_options: dict[str, dict[str, Any]] = {}
    if "cold_pressor" in emulated and v.first_setpoint_c is not None:
        emulator_options["cold_pressor"] = {"start_c": v.first_setpoint_c}  # a demo bath is ready at once
    spec = SessionSpec(
        protocol_path=v.protocol_path,
        participant=v.participant,
        session=v.session,
        data_root=v.data_folder,
        run=v.run,
        speed=v.speed,
        simulate=v.simulate,
        emulate=bool(emulated),
        devices=[DeviceAssignment(role, driver, port) for role, (driver, port) in v.devices.items() if driver],
        operator=v.operator or None,
        lab=lab,
        emulator_options=emulator_options,
    )
    optional = {
        "lsl": v.lsl,
        "record": v.record,
        "display": not v.simulate,
        "display_screen": v.display_screen,
        "fullscreen": v.fullscreen,
    }
    names = {f.name for f in dataclasses.fields(SessionSpec)}
    for name, value in optional.items():
        if name in names:  # other engineers add these fields; set only what exists
            setattr(spec, name, value)
    return spec


def remember(v: SetupValues, s: ConsoleSettings) -> ConsoleSettings:
    """Copy the operator's choices into settings s (kept where a value is unset) and return s."""
    s.protocol = str(v.protocol_path) if v.protocol_path else s.protocol
    s.devices = {role: {"driver": d or "", "port": p or ""} for role, (d, p) in v.devices.items()}
    s.data_folder = str(v.data_folder) if v.data_folder else s.data_folder
    s.display_screen, s.fullscreen, s.simulate = v.display_screen, v.fullscreen, v.simulate
    s.lsl, s.record, s.operator = v.lsl, v.record, v.operator
    return s
