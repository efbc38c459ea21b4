"""Byte-level emulators of the devices cpmlab drives (installed as cpmlab.hardware_mocks).

Each emulator speaks its device's wire protocol over a real pseudo-terminal (serial
devices) or a loopback TCP port, with a physical model and switchable fault injection,
so a client cannot tell it from the hardware.
"""
