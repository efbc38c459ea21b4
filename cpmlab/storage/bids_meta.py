"""BIDS sidecar texts: column descriptions for every file cpmlab writes."""

from __future__ import annotations

from typing import Any

BIDS_VERSION = "1.10.0"

EVENTS_COLUMNS: dict[str, dict[str, Any]] = {
    "onset": {"Description": "Onset from session start (first journal event), in protocol seconds", "Units": "s"},
    "duration": {"Description": "Duration of the event", "Units": "s"},
    "trial_type": {
        "Description": "What happened",
        "Levels": {
            "heat_stimulus": "a whole thermal stimulus, ramp start to return end",
            "heat_ramp": "thermode ramping from baseline to target",
            "heat_plateau": "thermode holding the target temperature",
            "heat_return": "thermode returning to baseline",
            "cold_immersion": "hand in the cold-pressor bath",
            "rating": "a rating screen, from onset to answer (or timeout)",
            "instruction": "an instruction screen",
            "continuous_rating": "a continuous rating window",
            "variable": "a session variable was set (e.g. a calibrated temperature)",
            "marker": "a protocol marker",
            "note": "an operator note",
            "fault": "a device or engine fault",
            "pause": "operator paused the session",
            "resume": "operator resumed the session",
            "abort": "the session was aborted",
            "emergency_stop": "emergency stop: every device aborted",
            "calibration_trial": "one calibration stimulus (value: its temperature in degC; detail: the rating)",
            "calibration_result": "result of a test-stimulus calibration (value: temperature in degC)",
            "calibration_estimate": "running calibration estimate after a trial (value: degC; ci_low_c, ci_high_c)",
            "threshold_trial": "one heat-pain-threshold ramp (value: temperature at the response, degC)",
            "threshold_result": "mean heat pain threshold over the valid trials (degC)",
            "cold_pain_detection": "cold-pressor pain detection time from immersion onset (value, s)",
            "cold_pain_tolerance": "cold-pressor pain tolerance time from immersion onset (value, s)",
        },
    },
    "step_id": {"Description": "Id of the protocol step"},
    "role": {"Description": "Role of the stimulus (test_stimulus, conditioning, calibration, threshold, practice)"},
    "phase": {"Description": "Position relative to the conditioning stimulus: before, during, after or none"},
    "rep": {"Description": "Repetition of the enclosing block (1-based)"},
    "value": {"Description": "Rating given, or the value of a variable; n/a when the participant did not answer"},
    "stimulus_c": {"Description": "Target temperature of the thermal stimulus, or bath setpoint", "Units": "degC"},
    "ci_low_c": {"Description": "Lower end of the credible interval of a calibration estimate", "Units": "degC"},
    "ci_high_c": {"Description": "Upper end of the credible interval of a calibration estimate", "Units": "degC"},
    "detail": {"Description": "Free text: marker name, note text, fault message, variable name"},
}

BEH_COLUMNS: dict[str, dict[str, Any]] = {
    "trial": {"Description": "Rating number within the run, 1-based"},
    "onset": {"Description": "Onset of the rating screen (flip) from session start", "Units": "s"},
    "step_id": {"Description": "Id of the rating step (or the immersion step for ratings of the water)"},
    "rates": {"Description": "Id of the stimulus step this rating is about"},
    "about": {"Description": "heat (test stimulus), cold (conditioning water) or other"},
    "role": {"Description": "Role of the rated stimulus"},
    "phase": {"Description": "before, during or after the conditioning stimulus, or none"},
    "rep": {"Description": "Repetition of the enclosing block (1-based)"},
    "scale": {"Description": "vas (0-100), nrs (0-10) or categorical"},
    "scale_max": {"Description": "Top of the scale"},
    "rating": {"Description": "The rating; n/a when the participant did not answer in time (never 0)"},
    "category": {"Description": "Chosen category text for categorical scales"},
    "response_time": {"Description": "Time from screen onset to answer", "Units": "s"},
    "stimulus_c": {"Description": "Target temperature of the rated heat stimulus", "Units": "degC"},
    "input": {"Description": "How the answer was given: keyboard, mouse, simulated or none"},
}

THERMODE_COLUMNS = ["neutral_c", "zone1_c", "zone2_c", "zone3_c", "zone4_c", "zone5_c"]
BATH_COLUMNS = ["bath_c"]
CONTINUOUS_COLUMNS = ["rating"]


def recording_sidecar(columns: list[str], sampling_hz: float, start_s: float, what: str, units: str) -> dict[str, Any]:
    """Return the JSON sidecar of a continuous recording."""
    return {
        "SamplingFrequency": sampling_hz,
        "StartTime": round(start_s, 6),
        "Columns": columns,
        "Description": what,
        **{c: {"Description": f"{c} ({what})", "Units": units} for c in columns},
    }


def dataset_description(name: str, version: str, authors: list[str]) -> dict[str, Any]:
    """Return dataset_description.json content."""
    return {
        "Name": name,
        "Authors": authors,
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "cpmlab", "Version": version, "Description": "CPM session software"}],
    }


PARTICIPANTS_JSON = {
    "participant_id": {"Description": "Participant label"},
}

README_TEXT = """This dataset was recorded with cpmlab (conditioned pain modulation sessions).

Each run lives in sub-<label>/ses-<label>/beh/:
- *_events.tsv: every timed event (stimuli, immersions, rating screens, markers, notes, faults)
- *_beh.tsv: one row per rating
- *_recording-thermode_stim.tsv.gz: thermode temperatures (neutral and zones)
- *_recording-bath_stim.tsv.gz: cold-pressor bath temperature
- *_recording-covas_physio.tsv.gz: continuous ratings (when the protocol has them)

sourcedata/cpmlab/ holds the session journals (the source of truth) and the protocol
files exactly as they were run.
"""
