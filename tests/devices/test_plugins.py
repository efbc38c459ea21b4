"""Driver discovery: entry points are found, a broken plugin is reported and never fatal."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from cpmlab.devices.plugins import DriverSpec, load_drivers, load_emulators


def test_installed_drivers_declare_kind_model_transport_and_settings() -> None:
    """Each shipped driver says what it drives, how it connects and which emulator matches it."""
    registry = load_drivers()
    assert registry.failures == []
    kinds = {name: (spec.kind, spec.transport) for name, spec in registry.specs.items()}
    assert kinds["tcs2"] == ("thermode", "serial") and kinds["medoc"] == ("thermode", "tcp")
    assert kinds["julabo"] == ("cold_pressor", "serial") and kinds["lauda"] == ("cold_pressor", "serial")
    assert registry.specs["tcs2"].serial_settings["baudrate"] == 115200
    assert registry.specs["medoc"].default_port.endswith(":20121")
    emulators = load_emulators()
    assert all(spec.emulator in emulators.specs for spec in registry.specs.values())


def test_a_plugin_that_fails_to_import_is_reported_not_fatal() -> None:
    """A broken third-party entry point lands in failures; the good ones still load."""
    eps = [
        EntryPoint("tcs2", "cpmlab.drivers.tcs2:DRIVER", "cpmlab.drivers"),
        EntryPoint("broken", "cpmlab_no_such_package.driver:DRIVER", "cpmlab.drivers"),
        EntryPoint("wrongtype", "cpmlab.core.limits:SafetyLimits", "cpmlab.drivers"),
    ]
    registry = load_drivers(eps)
    assert list(registry.specs) == ["tcs2"]
    assert {f.name for f in registry.failures} == {"broken", "wrongtype"}
    assert "ModuleNotFoundError" in next(f.error for f in registry.failures if f.name == "broken")
    with pytest.raises(KeyError, match="failed to load"):
        registry.get("broken")
    with pytest.raises(KeyError, match="available: tcs2"):
        registry.get("nosuch")
    assert isinstance(registry.get("tcs2"), DriverSpec)
