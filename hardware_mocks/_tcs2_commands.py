"""TCS II command framing from the device's side: split a byte stream by command length.

Written from the manual independently of the driver's table, so the emulator checks the
driver rather than sharing its mistakes. Parameter templates: ``d`` a digit, ``z`` a zone
selector (``0`` = all, ``1``-``5``), ``b`` a ``0``/``1`` flag. The command set: docs/hardware.md.
"""

from __future__ import annotations

PARAMS: dict[str, str] = {
    "H": "",
    "?": "",
    "N": "ddd",
    "G": "",
    "S": "bbbbb",
    "C": "zddd",
    "V": "zdddd",
    "R": "zdddd",
    "D": "zddddd",
    "T": "dddddd",
    "P": "",
    "L": "",
    "A": "",
    "F": "",
    "Y": "dddd",
    "Oa": "",
    "Ob": "",
    "Oc": "",
    "Od": "",
    "Om": "ddd",
    "Ov": "zddddd",
    "Or": "zddddd",
    "Ot": "zdddd",
    "Oe": "",
    "Ose": "",
    "Osd": "",
    "Oo": "",
    "Of": "d",
    "Ol": "",
    "Og": "",
    "B": "",
    "I": "b",
    "E": "",
    "K": "",
    "Q": "",
    "Ur": "",
    "Uw": "bbbbbddd",  # then 'dddttt' per segment, nnn segments (see _template)
    "Ue": "bbbbb",
    "Xr": "",
    "Xw": "dddddddddddd",
    "Z": "dddddd",
}

_CLASSES = {"d": "0123456789", "z": "012345", "b": "01"}
WAIT = "wait"
DROP = "drop"


def _template(prefix: str, param_so_far: str) -> str:
    """Return the full parameter template of prefix, given the parameter bytes seen so far."""
    template = PARAMS[prefix]
    if prefix == "Uw" and len(param_so_far) >= len(template):
        template += "dddddd" * int(param_so_far[5:8])
    return template


def take_command(buf: str) -> tuple[str, str] | str:
    """Return (prefix, parameter) for the command at the start of buf, or WAIT, or DROP.

    WAIT: buf is an incomplete command; DROP: the first byte starts no valid command and is
    skipped (the device resynchronises on the next byte).
    """
    for prefix in PARAMS:
        if not buf.startswith(prefix):
            continue
        param = buf[len(prefix) :]
        template = _template(prefix, param)
        param = param[: len(template)]
        for char, kind in zip(param, template, strict=False):
            if char not in _CLASSES[kind]:
                return DROP
        if prefix == "Uw" and len(param) == len(PARAMS["Uw"]):
            template = _template(prefix, param)  # now the segment count is known
        if len(param) < len(template):
            return WAIT
        return prefix, param
    if any(prefix.startswith(buf) for prefix in PARAMS):
        return WAIT
    return DROP


def help_text(firmware: str, probe_id: str, probe_type: str) -> list[str]:
    """Return the lines of the ``H`` reply: firmware and probe lines, then the command list."""
    return [
        f"Firmware: {firmware}",
        f"Probe ID: {probe_id}",
        f"Probe TYPE: {probe_type}",
        "",
        "Command list:",
        "'H'       : help",
        "'?'       : returns 'TCS'",
        "'Nxxx'    : set neutral temperature in 1/10 degrees ('xxx'='200' to '400')",
        "'G'       : calibrate neutral temperature (after few seconds return 'Nxxx')",
        "'Sxxxxx'  : enable/disable area 1 to 5 (x='1'=enable or '0'=disable)",
        "'Csxxx'   : set stimulation temperature in 1/10 degrees ('xxx'='100' to '600')",
        "'Vsxxxx'  : set stimulation speed in 1/10 degrees per second ('0001' to '9999')",
        "'Rsxxxx'  : set return speed in 1/10 degrees per second ('0001' to '9999')",
        "'Dsxxxxx' : set stimulation duration in ms ('00001' to '99999')",
        "'Txxxyyy' : set trigger number ('001'-'255') and duration ('010'-'999' ms)",
        "'P'       : display stimulation parameters",
        "'L'       : start stimulation",
        "'A'       : abort current stimulation or exit follow mode, return to neutral",
        "'F'       : mute mode, no temperature display between and during stimulations",
        "'Yxxxx'   : temperature display time during stimulation in 10 ms ('0000' = all)",
        "'Oa'      : enable temperature display between stimulations (1Hz, default on)",
        "'Ob'      : enable temperature display during stimulations (100Hz, default on)",
        "'Oc'      : reset stimulator",
        "'Od'      : follow mode",
        "'Omxxx'   : maximum stimulation temperature in 1/10 degrees, limits 'C'",
        "'Ovsxxxxx': set stimulation speed in 1/100 degrees per second",
        "'Orsxxxxx': set return speed in 1/100 degrees per second",
        "'Otsxxxx' : set stimulation temperature in 1/100 degrees ('0001' to '6000')",
        "'Oe'      : display current temperatures in 1/100 degrees",
        "'Osx'     : enable (x='e') or disable (x='d') stimulation start by trigger in",
        "'Oo'      : output trigger",
        "'Ofx'     : MRI filter strength, 'x'='1' to '3'",
        "'Ol'      : start a stimulation which can be stopped by the response button",
        "'Og'      : display current temperatures and buttons state",
        "'B'       : display battery voltage and % of charge",
        "'Ix'      : enable/disable integral term",
        "'E'       : display current temperatures for neutral and area 1 to 5",
        "'K'       : get buttons state (CR+'00' none, '10' stim, '01' response, '11' both)",
        "'Q'       : get error state (one digit per zone and neutral, '0' = OK)",
        "'Ur' / 'Uw...' / 'Uexxxxx' : read / write / enable temperature profiles",
        "'Xr' / 'Xwhhmmssddmmyy'    : read / write clock",
        "'Zdddfff' : buzzer, duration in 10 ms, frequency in 10 Hz",
    ]
