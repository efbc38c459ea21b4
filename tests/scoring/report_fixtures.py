"""Report fixtures: a multi-paradigm study written like real sessions, and its group tables in the shared schema.

The group tables (participants, groups, contrast, retest_pairs, retest) are computed here from the
per-run scores, per task and condition, with the columns of the shared table schema, so the report
is tested against that schema whatever the pipeline of this branch produces.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cpmlab.scoring.group import long_scores
from cpmlab.scoring.icc import icc, sem_srd, two_way_anova
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import ScoredDataset, score_dataset
from cpmlab.scoring.synthetic import session_spec, write_dataset_files, write_run

PARTICIPANT_COLUMNS = [
    "participant_id",
    "task",
    "condition",
    "measure",
    "range",
    "n_sessions",
    "mean",
    "sd",
    "median",
    "sign_convention",
]
GROUP_COLUMNS = [
    "task",
    "condition",
    "measure",
    "range",
    "n",
    "n_sessions",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "median",
    "prop_inhibition",
    "sign_convention",
]
CONTRAST_COLUMNS = [
    "task",
    "measure",
    "range",
    "n",
    "mean_active",
    "mean_sham",
    "mean_diff",
    "sd_diff",
    "diff_ci_low",
    "diff_ci_high",
    "t",
    "df",
    "p_t",
    "wilcoxon_w",
    "p_wilcoxon",
    "dz",
    "sign_convention",
]
PAIR_COLUMNS = [
    "participant_id",
    "task",
    "condition",
    "measure",
    "range",
    "session_1",
    "session_2",
    "value_1",
    "value_2",
]
RETEST_COLUMNS = [
    "task",
    "condition",
    "measure",
    "range",
    "n",
    "sessions",
    "icc_3_1",
    "icc_3_1_ci_low",
    "icc_3_1_ci_high",
    "icc_2_1",
    "icc_2_1_ci_low",
    "icc_2_1_ci_high",
    "sd_pooled",
    "sem_3_1",
    "srd_3_1",
    "sem_2_1",
    "srd_2_1",
    "sign_convention",
]
# session label, task, condition, phases rated: active sequential and parallel twice, sham sequential twice
VISITS = (
    ("1", "cpmsequential", "active", ("before", "after")),
    ("1", "cpmparallel", "active", ("before", "during", "after")),
    ("2", "cpmsequential", "active", ("before", "after")),
    ("2", "cpmparallel", "active", ("before", "during", "after")),
    ("3", "cpmsequential", "sham", ("before", "after")),
    ("4", "cpmsequential", "sham", ("before", "after")),
)
EFFECTS = {("cpmsequential", "active"): -12.0, ("cpmparallel", "active"): -18.0, ("cpmsequential", "sham"): -2.0}


def write_study(
    root: Path, n_participants: int, *, seed: int = 3, missing: bool = False, recordings_for_first: bool = False
) -> Path:
    """Write N participants x the VISITS plus a cold-pressor run in session 1; return the dataset root.

    missing=True leaves some ratings unanswered: participant 1 gives no after-ratings in session 2.
    """
    rng = np.random.default_rng(seed)
    labels = [f"{i + 1:02d}" for i in range(n_participants)]
    write_dataset_files(root, labels)
    for p, label in enumerate(labels):
        base, trait = rng.uniform(35.0, 70.0), rng.normal(0.0, 6.0)
        for ses, task, cond, phases in VISITS:
            effect = EFFECTS[(task, cond)] + (trait if cond == "active" else 0.3 * trait)
            shift = {"before": 0.0, "during": effect, "after": 0.7 * effect}
            ts: dict[str, list[float | None]] = {
                ph: [float(np.clip(round(base + shift[ph] + rng.normal(0, 5.0), 1), 0, 100)) for _ in range(2)]
                for ph in phases
            }
            if missing and p == 0 and ses == "2":
                ts["after"] = [None, None]
            cs = [float(np.clip(round(rng.normal(6.0 if cond == "active" else 1.0, 1.0)), 0, 10)) for _ in range(2)]
            recordings = ("thermode", "bath") if recordings_for_first and p == 0 and ses == "1" else ()
            spec = session_spec(label, ses, cond, ts, cs, task=task, recordings=recordings)
            write_run(root, spec)
        cpt = session_spec(label, "1", "active", {}, [], task="coldpressor", pdt_s=8.0, ptt_s=rng.uniform(20, 160))
        write_run(root, cpt)
    return root


def _natural(label: str) -> tuple[int, int | str]:
    return (0, int(label)) if label.isdigit() else (1, label)


def _participants(per_session: pd.DataFrame, sign: str) -> pd.DataFrame:
    rows = []
    for (pid, task, cond, m, rng), part in per_session.groupby(
        ["participant_id", "task", "condition", "measure", "range"]
    ):
        v = part["value"]
        sd = float(v.std(ddof=1)) if len(v) > 1 else None
        rows.append([pid, task, cond, m, rng, len(v), float(v.mean()), sd, float(v.median()), sign])
    return pd.DataFrame(rows, columns=PARTICIPANT_COLUMNS)


def _groups(per_session: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    rows = []
    for (task, cond, m, rng), part in per_session.groupby(["task", "condition", "measure", "range"]):
        v = part.groupby("participant_id")["value"].mean().to_numpy(dtype=float)
        n = len(v)
        sd = float(v.std(ddof=1)) if n > 1 else None
        half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if sd is not None else None
        low, high = (v.mean() - half, v.mean() + half) if half is not None else (None, None)
        inhib = float(((options.factor * v) < 0).mean())
        rows.append([task, cond, m, rng, n, len(part), float(v.mean()), sd, low, high, float(np.median(v)), inhib])
        rows[-1].append(options.sign)
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def _contrast(per_session: pd.DataFrame, sign: str) -> pd.DataFrame:
    rows = []
    for (task, m, rng), part in per_session.groupby(["task", "measure", "range"]):
        means = part.groupby(["participant_id", "condition"])["value"].mean().unstack()
        if "active" not in means or "sham" not in means:
            continue
        paired = means[["active", "sham"]].dropna()
        if paired.empty:
            continue
        d = (paired["active"] - paired["sham"]).to_numpy(dtype=float)
        n = len(d)
        sd = float(d.std(ddof=1)) if n > 1 else None
        t = p_t = w = p_w = dz = low = high = None
        if sd:
            res = stats.ttest_1samp(d, 0.0)
            t, p_t, dz = float(res.statistic), float(res.pvalue), float(d.mean() / sd)
            half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n))
            low, high = d.mean() - half, d.mean() + half
            wil = stats.wilcoxon(d)
            w, p_w = float(wil.statistic), float(wil.pvalue)
        df = n - 1 if n > 1 else None
        mean_a, mean_s = float(paired["active"].mean()), float(paired["sham"].mean())
        rows.append([task, m, rng, n, mean_a, mean_s, float(d.mean()), sd, low, high, t, df, p_t, w, p_w, dz, sign])
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def _pairs(per_session: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (pid, task, cond, m, rng), part in per_session.groupby(
        ["participant_id", "task", "condition", "measure", "range"]
    ):
        part = part.sort_values("session_id", key=lambda s: s.map(_natural))
        if len(part) >= 2:
            first = part.iloc[:2]
            rows.append([pid, task, cond, m, rng, *first["session_id"], *first["value"].astype(float)])
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def icc_intervals(x: np.ndarray) -> tuple[float, float, float, float]:
    """Return the 95% CIs of ICC(3,1) and ICC(2,1) (McGraw & Wong 1996, F-based) of an n x k matrix."""
    n, k = x.shape
    a = two_way_anova(x)
    msr, msc, mse = a["msr"], a["msc"], a["mse"]
    f_obs = msr / mse
    fl = f_obs / stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    fu = f_obs * stats.f.ppf(0.975, (n - 1) * (k - 1), n - 1)
    c_low, c_high = (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
    r = icc(x)["icc_2_1"] or 0.0
    aa, bb = k * r / (n * (1 - r)), 1 + k * r * (n - 1) / (n * (1 - r))
    v = (aa * msc + bb * mse) ** 2 / ((aa * msc) ** 2 / (k - 1) + (bb * mse) ** 2 / ((n - 1) * (k - 1)))
    fs, fi = stats.f.ppf(0.975, n - 1, v), stats.f.ppf(0.975, v, n - 1)
    a_low = n * (msr - fs * mse) / (fs * (k * msc + (k * n - k - n) * mse) + n * msr)
    a_high = n * (fi * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fi * msr)
    return float(c_low), float(c_high), float(a_low), float(a_high)


def _retest(pairs: pd.DataFrame, sign: str) -> pd.DataFrame:
    rows = []
    for (task, cond, m, rng), part in pairs.groupby(["task", "condition", "measure", "range"]):
        if len(part) < 2:
            continue
        x = part[["value_1", "value_2"]].to_numpy(dtype=float)
        r = icc(x)
        sd = float(np.std(x, ddof=1))
        c_low, c_high, a_low, a_high = icc_intervals(x)
        sem31, srd31 = sem_srd(sd, r["icc_3_1"])
        sem21, srd21 = sem_srd(sd, r["icc_2_1"])
        labels = f"{part['session_1'].iloc[0]} | {part['session_2'].iloc[0]}"
        head = [task, cond, m, rng, len(part), labels]
        rows.append([*head, r["icc_3_1"], c_low, c_high, r["icc_2_1"], a_low, a_high, sd, sem31, srd31, sem21, srd21])
        rows[-1].append(sign)
    return pd.DataFrame(rows, columns=RETEST_COLUMNS)


def schema_tables(sessions: pd.DataFrame, options: ScoringOptions) -> dict[str, pd.DataFrame]:
    """Return participants, groups, contrast, retest_pairs and retest in the shared schema."""
    long = long_scores(sessions)
    per_session = (
        long.groupby(["participant_id", "task", "condition", "measure", "range", "session_id"])["value"]
        .mean()
        .reset_index()
    )
    pairs = _pairs(per_session)
    return {
        "participants": _participants(per_session, options.sign),
        "groups": _groups(per_session, options),
        "contrast": _contrast(per_session, options.sign),
        "retest_pairs": pairs,
        "retest": _retest(pairs, options.sign),
    }


def scored_with_schema(root: Path, options: ScoringOptions | None = None) -> ScoredDataset:
    """Score the dataset at root and give it group tables in the shared schema."""
    options = options or ScoringOptions()
    scored = score_dataset(root, options)
    return dataclasses.replace(scored, **schema_tables(scored.sessions, options))
