"""The event vocabulary, declared once: every kind the engine emits, its typed fields and units.

The bus refuses an event with a field its kind does not declare (or a value of the wrong
type); the journal, the BIDS writer, the LSL markers, the console and the scoring all read
these declarations. ``column`` names the ``_events.tsv`` column a field is written to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cpmlab.core.event_fields import ANY, BOOL, DICT, INT, LIST, NUM, STR, EventFieldError, Field, Kind

__all__ = ["ANY", "BOOL", "DICT", "INT", "LIST", "NUM", "STR", "EventFieldError", "Field", "Kind"]


# -- fields shared by several kinds (one definition each) -----------------------------------------
STEP_ID = Field("step_id", STR, None, "Id of the protocol step", "step_id")
STEP_TYPE = Field("step_type", STR, None, "Type of the protocol step (thermal, immersion, rating, ...)")
PATH = Field("path", STR, None, "Position of the step in the protocol, e.g. steps[3].steps[0]")
ROLE = Field("role", STR, None, "Role of the stimulus (test_stimulus, conditioning, calibration, ...)", "role")
PHASE = Field("phase", STR, None, "Relative to the conditioning stimulus: before, during, after, none", "phase")
REP = Field("rep", INT, None, "Repetition of the enclosing block (1-based)", "rep")
RATES = Field("rates", STR, None, "Id of the stimulus step a rating is about", "rates")
LABEL = Field("label", STR, None, "Operator-facing label of the step")
TRIAL = Field("trial", INT, None, "Trial number within a calibration or threshold procedure (1-based)", "trial")
STAGE = Field("stage", STR, None, "Which moment of the stimulus or screen this is", marker=False)
DEVICE = Field("device", STR, None, "Device role (thermode, cold_pressor, display) or engine", "device")
SOURCE = Field("source", STR, None, "Who or what caused it (operator, keyboard, device, a step id)", "source")
SCALE = Field("scale", STR, None, "Rating scale: vas, nrs or categorical", "scale")
ABOUT = Field("about", STR, None, "What is rated: heat (test stimulus), cold (water) or other")
STIMULUS_C = Field("stimulus_c", NUM, "degC", "Target temperature of the rated heat stimulus", "stimulus_c")
VALUE = Field("value", NUM, None, "The value (units in the unit field or the kind's description)", "value")
CENSORED = Field("censored", BOOL, None, "True when the time or temperature limit was reached first", "censored")
FALLBACK = Field("fallback", BOOL, None, "True when a calibration found nothing and used fallback_c", "fallback")
METHOD = Field("method", STR, None, "Procedure that produced the value (staircase, ascending, fit, ...)", "method")
THERMAL = (
    Field("target_c", NUM, "degC", "Target temperature of the thermal stimulus", "stimulus_c"),
    Field("baseline_c", NUM, "degC", "Baseline temperature the thermode starts from and returns to"),
    Field("plateau_s", NUM, "s", "Time held at target"),
    Field("ramp_c_per_s", NUM, "degC/s", "Ramp rate towards target"),
    Field("return_c_per_s", NUM, "degC/s", "Ramp rate back to baseline"),
    Field("zones", LIST, None, "Thermode zones heated (1-5)"),
)
STEP = (STEP_ID, STEP_TYPE, ROLE, PHASE, RATES, LABEL, REP)
RATING_FIELDS = (STEP_ID, RATES, ABOUT, SCALE, ROLE, PHASE, REP, STIMULUS_C)

# -- kinds --------------------------------------------------------------------------------------
SESSION_START = Kind(
    "session_start",
    "the session begins (its fields describe the whole session)",
    (
        Field("protocol", STR, None, "Protocol name"),
        Field("task", STR, None, "BIDS task label"),
        Field("speed", NUM, None, "Time scale: protocol seconds per real second (1 = real time)"),
        Field("condition", STR, None, "Conditioning condition: active, sham or none"),
        Field("seed", INT, None, "Seed of the session's random generator"),
        Field("limits", DICT, None, "Effective safety limits", marker=False),
        Field("participant", STR, None, "Participant label"),
        Field("session", STR, None, "Session label"),
        Field("run", INT, None, "Run number"),
        Field("protocol_title", STR, None, "Protocol title", marker=False),
        Field("protocol_file", STR, None, "File name of the protocol", marker=False),
        Field("protocol_sha256", STR, None, "SHA-256 of the protocol file as run"),
        Field("protocol_copy", STR, None, "Path of the protocol copy in sourcedata", marker=False),
        Field("software_version", STR, None, "cpmlab version"),
        Field("operator", STR, None, "Operator name", marker=False),
        Field("lab", STR, None, "Lab name"),
        Field("started", STR, None, "Wall-clock start time (ISO 8601)"),
        Field("devices", DICT, None, "Devices opened for the session", marker=False),
        Field("device_info", DICT, None, "What each device reported about itself", marker=False),
        Field("simulated_participant", BOOL, None, "True when a simulated participant answered", marker=False),
        Field("simulated_parameters", DICT, None, "A simulated participant's true parameters", marker=False),
        Field("lab_limits", DICT, None, "The lab's safety limits", marker=False),
        Field("protocol_limits", DICT, None, "The protocol's safety limits", marker=False),
        Field("lsl", DICT, None, "Lab Streaming Layer outlets and recording", marker=False),
        Field("study", DICT, None, "Study, visit, condition and carried variables (cpmlab study)", marker=False),
    ),
)
SESSION_END = Kind(
    "session_end",
    "the session ends",
    (
        Field(
            "outcome",
            STR,
            None,
            "completed, aborted, emergency_stopped, fault, failed, or not_started (a start that failed)",
        ),
        Field("variables", DICT, None, "Session variables at the end", marker=False),
        Field("reason", STR, None, "Why a start failed before the session began (outcome not_started)"),
    ),
)
STEP_START = Kind("step_start", "a protocol step begins", (PATH, *STEP))
STEP_END = Kind(
    "step_end", "a protocol step ends", (PATH, *STEP, Field("status", STR, None, "done, failed, aborted, ..."))
)
STIMULUS = Kind(
    "stimulus",
    "a stage of a device-timed heat stimulus: ramp_start, plateau_start, return_start or end",
    (STAGE, *STEP, TRIAL, *THERMAL),
)
IMMERSION = Kind(
    "immersion",
    "a stage of a cold-pressor immersion: immersion_start or immersion_end",
    (
        STAGE,
        *STEP,
        Field("setpoint_c", NUM, "degC", "Bath setpoint", "stimulus_c"),
        Field("limb", STR, None, "Limb in the water"),
        Field("reason", STR, None, "What ended the immersion: time, withdrawal, hard maximum, ...", "ended_by"),
        Field("duration_s", NUM, "s", "Time in the water, protocol seconds"),
        CENSORED,
    ),
)
_ONSET_T = Field("onset_t", NUM, "s", "Shared-clock time of the rating screen's first frame", marker=False)
RATING_ONSET = Kind("rating_onset", "the first frame of a rating screen was flipped", RATING_FIELDS)
RATING = Kind(
    "rating",
    "the participant answered a rating screen (value null: no answer before the timeout)",
    (
        *RATING_FIELDS,
        Field("value", NUM, "scale units", "The rating; null when not answered (never 0)", "value"),
        _ONSET_T,
        Field("rt_s", NUM, "s", "Reaction time from screen onset, real seconds"),
        Field("input", STR, None, "keyboard, mouse, simulated or none"),
        Field("category", STR, None, "Chosen category text (categorical scales)"),
    ),
)
CONTINUOUS_SAMPLE = Kind(
    "continuous_sample",
    "one sample of a continuous rating",
    (STEP_ID, RATES, SCALE, Field("value", NUM, "scale units", "Slider position; null before it is touched")),
    sample=True,
)
READING = Kind(
    "reading",
    "a temperature reading from a device",
    (
        DEVICE,
        Field("neutral_c", NUM, "degC", "Thermode neutral (baseline) temperature"),
        Field("zones_c", LIST, "degC", "Thermode zone temperatures"),
        Field("bath_c", NUM, "degC", "Bath temperature"),
    ),
    sample=True,
)
DISPLAY = Kind(
    "display",
    "a participant screen (instruction, wait or continuous rating) appeared",
    (
        STAGE,
        STEP_ID,
        Field("screen", STR, None, "instruction, wait or continuous"),
        Field("end_t", NUM, "s", "Shared-clock time the screen ended", marker=False),
        Field("ended_by", STR, None, "key, timeout, aborted or time", "ended_by"),
        Field("rate_hz", NUM, "Hz", "Continuous rating: samples taken per protocol second", marker=False),
    ),
)
MEASURE = Kind(
    "measure",
    "a procedure's measurement: calibration and threshold trials and results, cold pain times",
    (
        Field("measure", STR, None, "Which measurement (see MEASURES)"),
        VALUE,
        Field("unit", STR, None, "Unit of value (degC or s)", "unit"),
        STEP_ID,
        TRIAL,
        CENSORED,
        Field("discarded", BOOL, None, "True when left out by design (first threshold trial)", "discarded"),
        FALLBACK,
        METHOD,
        Field("stopped_by", STR, None, "What ended the procedure (reversals, target reached, ...)", "stopped_by"),
        Field("limit_s", NUM, "s", "Time limit of a cold pain time (its value when censored)", "limit_s"),
        Field(
            "display_lost",
            BOOL,
            None,
            "True when the participant display was lost while the response was awaited (value unknown: "
            "neither a response nor a censored time)",
        ),
        Field("variable", STR, None, "Session variable the result is stored in", "variable"),
        Field("rating", NUM, "scale units", "Rating given to a calibration trial", "rating"),
        Field("target_rating", NUM, "scale units", "Rating the calibration aims for"),
        Field("trials", LIST, None, "Calibration trials: [temperature degC, rating]"),
        Field("reversals_c", LIST, "degC", "Staircase reversal temperatures"),
        Field("slope_per_c", NUM, "scale units/degC", "Fitted rating slope"),
        Field("intercept", NUM, "scale units", "Fitted rating intercept"),
        Field("n_valid", INT, None, "Valid threshold trials in the result"),
        Field("n_trials", INT, None, "Threshold trials run"),
        Field("ci_low_c", NUM, "degC", "Lower end of the calibration estimate's credible interval", "ci_low_c"),
        Field("ci_high_c", NUM, "degC", "Upper end of the calibration estimate's credible interval", "ci_high_c"),
        Field("ci_level", NUM, None, "Probability the credible interval holds (e.g. 0.95)"),
        Field("slope_vas_per_c", NUM, "VAS/degC", "Posterior mean slope of the rating-temperature relation"),
        Field("noise_sd_vas", NUM, "VAS", "Posterior mean rating noise (SD)"),
    ),
)
VARIABLE = Kind(
    "variable",
    "a session variable was set",
    (
        Field("name", STR, None, "Variable name", "variable"),
        Field("value", ANY, None, "Its value", "value"),
        SOURCE,
        METHOD,
        FALLBACK,
    ),
)
MARKER = Kind(
    "marker",
    "a named marker (protocol marker step, block_repetition, wait, bath_settling, lsl_streams)",
    (
        Field("name", STR, None, "Marker name", "detail"),
        STEP_ID,
        REP,
        Field("order", LIST, None, "Order the block's steps ran in (block_repetition)"),
        Field("duration_s", NUM, "s", "Drawn wait duration, protocol seconds (wait)"),
        Field("bath_c", NUM, "degC", "Bath temperature when settling began (bath_settling)"),
        Field("setpoint_c", NUM, "degC", "Bath setpoint being waited for (bath_settling)"),
        Field("streams", LIST, None, "LSL outlets of the session (lsl_streams)"),
        Field("fields", DICT, None, "The protocol marker step's own fields (flattened on the LSL marker)"),
        Field("event", STR, None, "Which response the operator gave for the participant (operator_response)"),
        Field("what", STR, None, "The wait the operator response answers, e.g. cold_detection (operator_response)"),
        Field("accepted", BOOL, None, "True when the response ended a running wait (operator_response)"),
        Field("reason", STR, None, "Why the probe was not confirmed at neutral (probe_not_at_neutral)"),
        Field("neutral_c", NUM, "degC", "Neutral temperature the probe returns to (probe_at_neutral)"),
        Field("max_off_c", NUM, "degC", "Largest zone distance from neutral (probe_at_neutral)"),
        Field("waited_s", NUM, "s", "Time waited after the stop for the probe to reach neutral"),
        SOURCE,
    ),
)
FAULT = Kind(
    "fault",
    "a device or the engine failed",
    (
        DEVICE,
        Field("message", STR, None, "What went wrong", "detail"),
        STEP_ID,
        Field(
            "cause",
            STR,
            None,
            "What found the fault: watchdog (a reading outside the limits) or stimulus_refused "
            "(the thermode did not accept a stimulus; that trial has no test-stimulus rating)",
        ),
        Field("reading_t", NUM, "s", "LSL time of the reading that breached a limit"),
        Field("reading_c", NUM, "degC", "The reading that breached a limit"),
        Field("limit_c", NUM, "degC", "The limit it breached"),
        Field("bound", STR, None, "Which limit: max or min"),
        Field("tolerance_c", NUM, "degC", "Tolerance beyond the limit before a reading is a fault"),
        Field("zone", INT, None, "Thermode zone of the reading (none for the bath)"),
    ),
)
CONTROL = Kind(
    "control",
    "an operator or device control: pause, resume, abort, emergency_stop, hold or release",
    (
        Field(
            "action",
            STR,
            None,
            "pause, resume, abort, emergency_stop, hold (no participant display: nothing new starts) or "
            "release (the display is back and shows the interrupted screen again)",
            marker=False,
        ),
        SOURCE,
        Field("reason", STR, None, "Why (abort, hold, release)", "detail"),
        Field("key", STR, None, "The key that asked for it (e.g. F12 pressed in the participant display)"),
    ),
)
NOTE = Kind("note", "an operator note", (Field("text", STR, None, "The note", "detail"), SOURCE))
_RAW = Field("raw", STR, None, "The bytes, hex-encoded")
_DRIVER_FIELDS = Field("fields", DICT, None, "What the driver parsed from the bytes (driver-specific)")
COMMAND = Kind(
    "command", "bytes sent to a device", (DEVICE, Field("command", STR, None, "Command as text"), _RAW, _DRIVER_FIELDS)
)
REPLY = Kind(
    "reply",
    "a device's reply (or bytes it could not parse: error)",
    (
        DEVICE,
        Field("reply", STR, None, "Reply line as text"),
        _RAW,
        Field("text", STR, None, "Reply text"),
        Field("error", STR, None, "Why the reply could not be parsed"),
        _DRIVER_FIELDS,
    ),
)


def driver_sink(emit: Callable[..., Any]) -> Callable[..., None]:
    """Return a driver event sink that nests the driver's own fields (see nest_undeclared), then emits."""

    def sink(kind_name: str, **data: Any) -> None:
        emit(kind_name, **nest_undeclared(kind_name, data))

    return sink


def nest_undeclared(kind_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return data with the fields kind_name does not declare moved into its ``fields`` dict.

    For kinds whose content varies by source (driver traffic, protocol marker fields).
    """
    declared = set(kind(kind_name).field_names)
    out = {k: v for k, v in data.items() if k in declared}
    extra = {k: v for k, v in data.items() if k not in declared}
    if extra:
        if "fields" not in declared:
            raise EventFieldError(f"event kind {kind_name!r} does not declare field(s) {', '.join(sorted(extra))}")
        out["fields"] = {**(out.get("fields") or {}), **extra}
    return out


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        SESSION_START,
        SESSION_END,
        STEP_START,
        STEP_END,
        STIMULUS,
        IMMERSION,
        RATING_ONSET,
        RATING,
        CONTINUOUS_SAMPLE,
        READING,
        DISPLAY,
        MEASURE,
        VARIABLE,
        MARKER,
        FAULT,
        CONTROL,
        NOTE,
        COMMAND,
        REPLY,
    )
}

# Measurements the engine journals (MEASURE.measure): unit of value and meaning.
MEASURES: dict[str, tuple[str, str]] = {
    "calibration_trial": ("degC", "one calibration stimulus (value: its temperature; rating: the answer)"),
    "calibration_result": ("degC", "result of a test-stimulus calibration (value: temperature)"),
    "calibration_estimate": ("degC", "running calibration estimate after a trial (bayesian; ci_low_c, ci_high_c)"),
    "threshold_trial": ("degC", "one heat-pain-threshold ramp (value: temperature at the response)"),
    "threshold_result": ("degC", "mean heat pain threshold over the valid trials"),
    "cold_pain_detection": ("s", "cold-pressor pain detection time from immersion onset"),
    "cold_pain_tolerance": ("s", "cold-pressor pain tolerance time from immersion onset"),
}
CONTROL_ACTIONS: dict[str, str] = {
    "pause": "operator paused the session",
    "resume": "operator resumed the session",
    "abort": "the session was aborted",
    "emergency_stop": "emergency stop: every device aborted",
    "hold": "the participant display was lost: the session holds (nothing new starts)",
    "release": "the participant display is back and shows the interrupted screen again",
}


def kind(name: str) -> Kind:
    """Return the declaration of an event kind, or raise EventFieldError."""
    try:
        return KINDS[name]
    except KeyError:
        raise EventFieldError(f"unknown event kind {name!r}; declared: {', '.join(KINDS)}") from None


def check_event(kind_name: str, data: Mapping[str, Any]) -> None:
    """Raise EventFieldError unless kind_name is declared and data fits its fields."""
    kind(kind_name).check(data)


# Columns of _events.tsv that fields are written to (Field.column): description and unit.
EVENT_COLUMNS: dict[str, tuple[str, str | None]] = {
    "step_id": ("Id of the protocol step", None),
    "role": ("Role of the stimulus (test_stimulus, conditioning, calibration, threshold, practice)", None),
    "phase": ("Position relative to the conditioning stimulus: before, during, after or none", None),
    "rep": ("Repetition of the enclosing block (1-based)", None),
    "trial": ("Trial number within a calibration or threshold procedure (1-based)", None),
    "value": ("Rating given, a measurement (unit in the unit column) or a variable's value; n/a when none", None),
    "unit": ("Unit of value for measurements: degC or s", None),
    "stimulus_c": ("Target temperature of the thermal stimulus, or bath setpoint", "degC"),
    "scale": ("Rating scale: vas (0-100), nrs (0-10) or categorical", None),
    "rates": ("Id of the stimulus step a rating is about", None),
    "ended_by": ("What ended an immersion (time, withdrawal, hard maximum) or a screen (key, timeout)", None),
    "censored": ("True when the limit (time or cut-off temperature) was reached before a response", None),
    "discarded": ("True when the trial is left out by design (first threshold trial)", None),
    "fallback": ("True when a calibration found no temperature and used its fallback_c", None),
    "method": ("Procedure that produced the value (staircase, ascending, fit, method of limits)", None),
    "stopped_by": ("What ended a calibration (reversals, target reached, maximum trials, ...)", None),
    "limit_s": ("Time limit of a cold pain time; the time is censored at it", "s"),
    "variable": ("Name of the session variable set or filled by this event", None),
    "rating": ("Rating given to a calibration trial", None),
    "ci_low_c": ("Lower end of a calibration estimate's credible interval (bayesian method)", "degC"),
    "ci_high_c": ("Upper end of a calibration estimate's credible interval (bayesian method)", "degC"),
    "device": ("Device role of a fault (thermode, cold_pressor, display) or engine", None),
    "source": ("Who or what caused a control, note or variable (operator, keyboard, device, step id)", None),
    "detail": ("Free text only: marker name, note text, fault message, abort reason", None),
}
