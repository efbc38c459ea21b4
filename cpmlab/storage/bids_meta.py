"""BIDS sidecar texts: column descriptions for every file cpmlab writes."""

from __future__ import annotations

from typing import Any

from cpmlab.core import scales
from cpmlab.core import vocabulary as voc

BIDS_VERSION = "1.10.0"

# Rows of _events.tsv the writer builds from the stages of stimuli, immersions and screens.
TRIAL_TYPES: dict[str, str] = {
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
    **voc.CONTROL_ACTIONS,
    **{name: f"{meaning} (value in {unit})" for name, (unit, meaning) in voc.MEASURES.items()},
}


def _column(description: str, unit: str | None) -> dict[str, Any]:
    return {"Description": description, **({"Units": unit} if unit else {})}


EVENTS_COLUMNS: dict[str, dict[str, Any]] = {
    "onset": _column("Onset from session start (first journal event), in protocol seconds", "s"),
    "duration": _column("Duration of the event", "s"),
    "trial_type": {"Description": "What happened", "Levels": TRIAL_TYPES},
    **{name: _column(description, unit) for name, (description, unit) in voc.EVENT_COLUMNS.items()},
}
BOOLEAN_EVENT_COLUMNS = tuple(
    sorted({f.column for k in voc.KINDS.values() for f in k.fields if f.column and f.types == voc.BOOL})
)
NUMERIC_EVENT_COLUMNS = (
    "onset",
    "duration",
    *sorted({f.column for k in voc.KINDS.values() for f in k.fields if f.column and f.types in (voc.NUM, voc.INT)}),
)
for _name in BOOLEAN_EVENT_COLUMNS:
    EVENTS_COLUMNS[_name]["Levels"] = {"True": "yes", "False": "no"}


def _rating_field(name: str, description: str | None = None) -> dict[str, Any]:
    """Describe a _beh.tsv column that is a field of the rating event, from its declaration."""
    f = voc.RATING.field(name)
    return _column(description or f.description, f.unit if f.unit != "scale units" else None)


BEH_COLUMNS: dict[str, dict[str, Any]] = {
    "trial": {"Description": "Rating number within the run, 1-based"},
    "onset": {"Description": "Onset of the rating screen (flip) from session start", "Units": "s"},
    "step_id": _rating_field("step_id", "Id of the rating step (or the immersion step for ratings of the water)"),
    "rates": _rating_field("rates"),
    "about": _rating_field("about"),
    "role": _rating_field("role", "Role of the rated stimulus"),
    "phase": _rating_field("phase"),
    "rep": _rating_field("rep"),
    "scale": {"Description": "Rating scale", "Levels": {n: d.description for n, d in scales.SCALES.items()}},
    "scale_max": {"Description": "Top of the scale"},
    "rating": {
        "Description": f"The rating; {scales.MISSING_TEXT} when the participant did not answer in time (never 0)"
    },
    "category": _rating_field("category"),
    "response_time": {"Description": "Time from screen onset to answer, protocol seconds", "Units": "s"},
    "stimulus_c": _rating_field("stimulus_c"),
    "input": _rating_field("input", "How the answer was given: keyboard, mouse, simulated or none"),
}

THERMODE_COLUMNS = ["neutral_c", "zone1_c", "zone2_c", "zone3_c", "zone4_c", "zone5_c"]
BATH_COLUMNS = ["bath_c"]
CONTINUOUS_COLUMNS = ["rating"]


def recording_method(*, resampled: bool, samples: int, method: str, **facts: Any) -> dict[str, Any]:
    """Return the sidecar's account of how the rows came from the recorded samples."""
    return {"Resampled": resampled, "RecordedSamples": samples, "Method": method, **facts}


def recording_sidecar(
    columns: list[str], sampling_hz: float, start_s: float, what: str, units: str, how: dict[str, Any]
) -> dict[str, Any]:
    """Return the JSON sidecar of a continuous recording (how: recording_method's account of the rows)."""
    resampled = "resampled onto" if how.get("Resampled") else "as sampled, on"
    return {
        "SamplingFrequency": sampling_hz,
        "StartTime": round(start_s, 6),
        "Columns": columns,
        "Description": f"{what}, {resampled} a regular grid in protocol seconds (the journal holds every raw sample)",
        "cpmlab": how,
        **{c: {"Description": f"{c} ({what})", "Units": units} for c in columns},
    }


def simulated_participant(parameters: dict[str, Any]) -> dict[str, Any]:
    """Return the _beh.json SimulatedParticipant object: the true parameters and what they mean."""
    return {
        "Description": "Dry run: a simulated participant answered. These are its true parameters, drawn from "
        "the seeded population (profile, population_seed) or given by the caller; pain60_c is the temperature "
        "it rates 60/100 without CPM and noise, cpm_effect_vas its CPM effect (VAS, negative = inhibition), "
        "cold_detection_s and cold_tolerance_s the mean cold pain detection and tolerance times it produces "
        "(never when detects_cold_pain or withdraws is false).",
        **parameters,
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
