"""Column descriptions (with units) of every table the scoring writes."""

from __future__ import annotations

from typing import Any

from cpmlab.scoring.options import ScoringOptions

RATING_UNITS = "rating units of the scale in ts_range (0-100 VAS, or 0-10 NRS)"


def session_columns(options: ScoringOptions) -> dict[str, dict[str, Any]]:
    """Return the per-run score columns and their descriptions, in file order."""
    sign = options.sign_text()
    cols: dict[str, dict[str, Any]] = {
        "participant_id": {"Description": "Participant label"},
        "session_id": {"Description": "Session label (n/a when the dataset has no sessions)"},
        "task": {"Description": "BIDS task label of the run"},
        "run": {"Description": "Run number"},
        "condition": {
            "Description": "Conditioning condition of the session",
            "Levels": {
                "active": "painful conditioning stimulus",
                "sham": "neutral-temperature control",
                "none": "no conditioning stimulus",
            },
        },
        "outcome": {
            "Description": "How the session ended (completed, aborted, emergency_stopped, fault, failed, "
            "incomplete); non-completed sessions are scored as far as the data allows"
        },
        "recovered": {"Description": "True when the BIDS files were rebuilt from the journal after a crash"},
        "protocol": {"Description": "Protocol name"},
        "ts_scale": {"Description": "Scale(s) the test stimulus was rated on: vas, nrs or vas+nrs"},
        "ts_range": {
            "Description": "Range the test-stimulus scores are expressed on: 0-100 or 0-10; n/a when "
            "VAS and NRS were mixed and not normalised. " + options.scale_text()
        },
        "ts_mixed_scales": {
            "Description": "True when test-stimulus ratings used both VAS and NRS and were not "
            "normalised: phase means and effects are then n/a"
        },
    }
    for p, what in (
        ("before", "before the conditioning stimulus (baseline)"),
        ("during", "during the conditioning stimulus"),
        ("after", "after the conditioning stimulus"),
    ):
        cols[f"ts_{p}_mean"] = {"Description": f"Mean test-stimulus (heat) rating {what}", "Units": RATING_UNITS}
        cols[f"ts_{p}_n"] = {"Description": f"Number of answered test-stimulus ratings {what}"}
        cols[f"ts_{p}_missing"] = {"Description": f"Number of unanswered (n/a) test-stimulus ratings {what}"}
    for name, p, label in (("early", "during", "parallel"), ("late", "after", "sequential")):
        cols[f"cpm_{name}"] = {
            "Description": f"{name.capitalize()} ({label}) CPM effect, absolute: ts_{p}_mean vs ts_before_mean. "
            f"Sign convention: {sign}",
            "Units": RATING_UNITS,
        }
        cols[f"cpm_{name}_pct"] = {
            "Description": f"{name.capitalize()} CPM effect in percent of baseline: 100 x (ts_{p}_mean - "
            f"ts_before_mean) / ts_before_mean, same sign convention; n/a when the baseline "
            f"is 0",
            "Units": "%",
        }
        cols[f"cpm_{name}_direction"] = {
            "Description": f"Direction of the {name} effect (facilitation is kept, never clipped)",
            "Levels": {
                "inhibition": "less pain with conditioning",
                "facilitation": "more pain with conditioning",
                "none": "no change",
            },
        }
    cols.update(
        {
            "cs_scale": {"Description": "Scale(s) the conditioning stimulus (cold water) was rated on"},
            "cs_range": {"Description": "Range of the conditioning-stimulus scores (0-100 or 0-10)"},
            "cs_mixed_scales": {"Description": "True when CS ratings mixed VAS and NRS (not normalised)"},
            "cs_n": {"Description": "Number of answered conditioning-stimulus ratings"},
            "cs_missing": {"Description": "Number of unanswered conditioning-stimulus ratings"},
            "cs_mean": {"Description": "Mean conditioning-stimulus pain rating", "Units": "rating units of cs_range"},
            "cs_peak": {
                "Description": "Highest conditioning-stimulus pain rating",
                "Units": "rating units of cs_range",
            },
            "ts_stimulus_c": {"Description": "Median target temperature of the rated test stimuli", "Units": "degC"},
            "calibrated_c": {
                "Description": "Calibrated test-stimulus temperature (calibration_result event, else a "
                "variable whose name contains 'calib')",
                "Units": "degC",
            },
            "calibration_method": {
                "Description": "How the temperature was calibrated (method column of the calibration_result "
                "event, else its step id; 'variable NAME' when read from a variable)"
            },
            "calibration_fallback": {
                "Description": "True when the calibration found no temperature and used its fallback_c "
                "(fallback column of the events file)"
            },
            "hpt_c": {
                "Description": "Heat pain threshold: mean of the valid threshold_trial values, recomputed from "
                "the trials",
                "Units": "degC",
            },
            "hpt_n_trials": {"Description": "Number of valid threshold trials in hpt_c"},
            "hpt_n_invalid": {
                "Description": "Number of threshold trials left out: censored (no response before the "
                "cut-off) or discarded (the first trial, by design), from those columns of the events file"
            },
            "hpt_result_mismatch": {
                "Description": "True when the threshold_result written during the session "
                "differs from hpt_c by more than 0.05 degC"
            },
            "pdt_s": {"Description": "Cold-pressor pain detection time from immersion onset", "Units": "s"},
            "pdt_censored": {
                "Description": "True when no detection was reported before the time limit (pdt_s is then the limit)"
            },
            "ptt_s": {"Description": "Cold-pressor pain tolerance time from immersion onset", "Units": "s"},
            "ptt_censored": {
                "Description": "True when the participant had not withdrawn by the time limit "
                "(non-responder; ptt_s is then the limit)"
            },
            "covas_n_plateaus": {
                "Description": "Number of heat plateaus with a continuous-rating summary (see the desc-plateaus file)"
            },
            "flags": {
                "Description": "Semicolon-separated notes: the outcome when not completed (aborted, "
                "emergency_stopped, fault, failed, incomplete), recovered, missing_ratings, "
                "mixed_scales, cs_mixed_scales, no_baseline, no_conditioned_ratings, "
                "zero_baseline, threshold_result_mismatch, old_events_format (the _events.tsv "
                "predates the censored/discarded columns: hpt_c and the censored flags are then n/a; rebuild "
                "the files from the journal with cpmlab recover into a new folder to score them)"
            },
            "sign_convention": {
                "Description": "Sign convention of the CPM effects",
                "Levels": {
                    "inhibition-negative": "negative effect = inhibition (default)",
                    "inhibition-positive": "positive effect = inhibition",
                },
            },
        }
    )
    return cols


PLATEAU_COLUMNS: dict[str, dict[str, Any]] = {
    "plateau_onset": {"Description": "Plateau start from session start", "Units": "s"},
    "plateau_duration": {"Description": "Plateau duration", "Units": "s"},
    "step_id": {"Description": "Protocol step of the heat stimulus"},
    "role": {"Description": "Role of the heat stimulus"},
    "phase": {"Description": "before, during or after the conditioning stimulus, or none"},
    "rep": {"Description": "Repetition of the enclosing block"},
    "stimulus_c": {"Description": "Plateau target temperature", "Units": "degC"},
    "n_samples": {"Description": "Continuous-rating samples within the plateau window (n/a samples excluded)"},
    "covered_s": {"Description": "Part of the window covered by valid samples (edges interpolated)", "Units": "s"},
    "mean": {
        "Description": "Time-weighted mean continuous rating over the plateau (auc / covered_s)",
        "Units": "rating units",
    },
    "peak": {"Description": "Highest continuous rating over the plateau", "Units": "rating units"},
    "auc": {
        "Description": "Area under the continuous rating over the plateau (trapezoid rule)",
        "Units": "rating units x s",
    },
}

MEASURES = {
    "cpm_early": "early (parallel) CPM effect, absolute",
    "cpm_early_pct": "early CPM effect, percent of baseline",
    "cpm_late": "late (sequential) CPM effect, absolute",
    "cpm_late_pct": "late CPM effect, percent of baseline",
}


UNIT = "rating units of range (or % for *_pct measures)"
CONFIDENCE_TEXT = "95% confidence interval"


def _keys(with_condition: bool = True) -> dict[str, dict[str, Any]]:
    """Return the descriptions of the columns that identify a group-level row."""
    cols: dict[str, dict[str, Any]] = {
        "task": {
            "Description": "BIDS task label (the paradigm, e.g. cpmsequential, cpmparallel); tables are computed "
            "per task and never pool two tasks"
        }
    }
    if with_condition:
        cols["condition"] = {
            "Description": "Condition of the sessions (never pooled: there are no rows mixing conditions)",
            "Levels": {
                "active": "painful conditioning stimulus",
                "sham": "neutral-temperature control",
                "none": "no conditioning stimulus",
            },
        }
    cols["measure"] = {"Description": "Which score", "Levels": dict(MEASURES)}
    cols["range"] = {"Description": "Rating range of the scores (0-100 or 0-10); ranges are never pooled"}
    return cols


def summary_columns(options: ScoringOptions, level: str) -> dict[str, dict[str, Any]]:
    """Return the columns of the participant ('participant') or group ('group') summary table."""
    cols: dict[str, dict[str, Any]] = {}
    if level == "participant":
        cols["participant_id"] = {"Description": "Participant label"}
    cols.update(_keys())
    if level == "participant":
        cols.update(
            {
                "n_sessions": {"Description": "Sessions summarised (runs of one session are averaged first)"},
                "mean": {"Description": "Mean of the session values", "Units": UNIT},
                "sd": {
                    "Description": "Standard deviation (n-1) of the session values; n/a when fewer than 2",
                    "Units": UNIT,
                },
                "median": {"Description": "Median of the session values", "Units": UNIT},
            }
        )
    else:
        cols.update(
            {
                "n": {"Description": "Participants summarised (each contributes the mean of their sessions)"},
                "n_sessions": {"Description": "Sessions behind the summary (all participants)"},
                "mean": {"Description": "Mean over participants", "Units": UNIT},
                "sd": {"Description": "Standard deviation (n-1) over participants; n/a when n < 2", "Units": UNIT},
                "ci_low": {
                    "Description": f"Lower bound of the {CONFIDENCE_TEXT} of the mean: mean - t(0.975, n-1) x sd / "
                    "sqrt(n); n/a when n < 2",
                    "Units": UNIT,
                },
                "ci_high": {"Description": f"Upper bound of the {CONFIDENCE_TEXT} of the mean", "Units": UNIT},
                "median": {"Description": "Median over participants", "Units": UNIT},
                "prop_inhibition": {
                    "Description": "Proportion of participants whose mean shows inhibition (less pain with "
                    "conditioning), 0-1"
                },
            }
        )
    cols["sign_convention"] = {"Description": options.sign_text()}
    return cols


def contrast_columns(options: ScoringOptions) -> dict[str, dict[str, Any]]:
    """Return the columns of the active-versus-sham contrast table (per task, paired by participant)."""
    cols = _keys(with_condition=False)
    cols.update(
        {
            "n": {"Description": "Participants with both active and sham sessions of this task (paired)"},
            "mean_active": {
                "Description": "Mean over those participants of their active-session mean",
                "Units": UNIT,
            },
            "mean_sham": {"Description": "Mean over those participants of their sham-session mean", "Units": UNIT},
            "mean_diff": {
                "Description": "Mean paired difference, active minus sham (per participant: mean of active "
                "sessions - mean of sham sessions, same task). " + options.sign_text(),
                "Units": UNIT,
            },
            "sd_diff": {"Description": "Standard deviation (n-1) of the paired differences", "Units": UNIT},
            "diff_ci_low": {
                "Description": f"Lower bound of the {CONFIDENCE_TEXT} of mean_diff (t-interval, n-1 df)",
                "Units": UNIT,
            },
            "diff_ci_high": {"Description": f"Upper bound of the {CONFIDENCE_TEXT} of mean_diff", "Units": UNIT},
            "t": {"Description": "Paired t statistic: mean_diff / (sd_diff / sqrt(n)); n/a when sd_diff is 0 or n < 2"},
            "df": {"Description": "Degrees of freedom of the paired t-test (n - 1)"},
            "p_t": {"Description": "Two-sided p-value of the paired t-test"},
            "wilcoxon_w": {
                "Description": "Wilcoxon signed-rank statistic: the smaller of the positive and negative rank "
                "sums of the differences (zero differences dropped; reproduces scipy.stats.wilcoxon's defaults)"
            },
            "p_wilcoxon": {
                "Description": "Two-sided p-value of the Wilcoxon signed-rank test, as scipy.stats.wilcoxon's "
                "defaults: exact for n <= 50 without ties or zeros, exact sign-flip permutation for n <= 13 with "
                "ties or zeros, normal approximation otherwise"
            },
            "dz": {"Description": "Effect size Cohen's dz: mean_diff / sd_diff"},
            "sign_convention": {"Description": options.sign_text()},
        }
    )
    return cols


def retest_columns(options: ScoringOptions) -> dict[str, dict[str, Any]]:
    """Return the columns of the test-retest table."""
    cols = _keys()
    ci = "F-based 95% confidence interval (McGraw & Wong 1996)"
    cols.update(
        {
            "n": {"Description": "Participants with both sessions of the pair with this score"},
            "sessions": {
                "Description": "Session labels that entered the comparison (occasion 1 | occasion 2); pairs: "
                + options.retest_text()
                + "; the per-participant pairs are in cpm_retest_pairs.tsv"
            },
            "icc_3_1": {
                "Description": "ICC(3,1), two-way mixed, consistency, single measures (Shrout & Fleiss "
                "1979; McGraw & Wong 1996 ICC(C,1)): (MSR - MSE) / (MSR + (k-1) MSE), k = 2 sessions"
            },
            "icc_3_1_ci_low": {"Description": f"Lower bound of the {ci} of ICC(3,1), from F = MSR / MSE"},
            "icc_3_1_ci_high": {"Description": f"Upper bound of the {ci} of ICC(3,1)"},
            "icc_2_1": {
                "Description": "ICC(2,1), two-way random, absolute agreement, single measures (ICC(A,1)): "
                "(MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)"
            },
            "icc_2_1_ci_low": {
                "Description": f"Lower bound of the {ci} of ICC(2,1), with Satterthwaite's approximate df"
            },
            "icc_2_1_ci_high": {"Description": f"Upper bound of the {ci} of ICC(2,1)"},
            "sd_pooled": {"Description": "Standard deviation (n-1) of all n x 2 values", "Units": UNIT},
            "sem_3_1": {
                "Description": "Standard error of measurement from ICC(3,1): sd_pooled x sqrt(1 - ICC)",
                "Units": UNIT,
            },
            "srd_3_1": {"Description": "Smallest real difference from ICC(3,1): 1.96 x sqrt(2) x SEM", "Units": UNIT},
            "sem_2_1": {"Description": "Standard error of measurement from ICC(2,1)", "Units": UNIT},
            "srd_2_1": {"Description": "Smallest real difference from ICC(2,1)", "Units": UNIT},
            "sign_convention": {"Description": options.sign_text()},
        }
    )
    return cols


RETEST_PAIR_COLUMNS: dict[str, dict[str, Any]] = {
    "participant_id": {"Description": "Participant label"},
    "task": {"Description": "BIDS task label (paradigm) of both sessions"},
    "condition": {"Description": "Condition of both sessions"},
    "measure": {"Description": "Which score", "Levels": dict(MEASURES)},
    "range": {"Description": "Rating range"},
    "session_1": {"Description": "First session of the pair (natural order, or the first of --retest-sessions)"},
    "session_2": {"Description": "Second session of the pair"},
    "value_1": {"Description": "Score in the first session (runs of one session averaged)", "Units": UNIT},
    "value_2": {"Description": "Score in the second session", "Units": UNIT},
}
