"""Device interfaces the engine drives, and the plugin registry that finds drivers."""

from cpmlab.devices.interfaces import (
    BathReading,
    BathStatus,
    ColdPressor,
    DeviceInfo,
    ThermalStimulus,
    Thermode,
    ThermodeReading,
)

__all__ = [
    "BathReading",
    "BathStatus",
    "ColdPressor",
    "DeviceInfo",
    "ThermalStimulus",
    "Thermode",
    "ThermodeReading",
]
