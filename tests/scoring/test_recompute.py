"""Every group, contrast and retest number of a mixed study equals an independent recomputation from the raw files.

The reference below reads the raw _beh.tsv, _beh.json and _events.tsv files with csv and json,
computes with numpy from the published definitions (CPM effect = conditioned - baseline mean;
paired t; Wilcoxon signed-rank with its exact sign-flip distribution; ICC(C,1) and ICC(A,1) of
McGraw & Wong 1996 with their F-based intervals; SEM = SD x sqrt(1 - ICC), SRD = 1.96 x sqrt(2)
x SEM) and takes only quantiles of the t and F distributions from scipy.stats. It imports
nothing from cpmlab.scoring except the generator that writes the data and the scoring under test.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f as f_dist
from scipy.stats import t as t_dist

from cpmlab.scoring.pipeline import ScoredDataset, score_dataset
from cpmlab.scoring.synthetic_study import generate_study

N_PARTICIPANTS = 12
EFFECTS = {"cpm_early": "during", "cpm_late": "after"}
Key = tuple[str, ...]


# ---------------------------------------------------------------- reading the raw files


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def raw_session_values(root: Path) -> dict[Key, float]:
    """Return {(participant, task, condition, measure, session): value}, runs of one session averaged."""
    per_run: dict[Key, list[float]] = defaultdict(list)
    for beh in sorted(root.glob("sub-*/ses-*/beh/*_beh.tsv")):
        entities = dict(part.split("-", 1) for part in beh.name.removesuffix("_beh.tsv").split("_"))
        condition = json.loads(beh.with_suffix(".json").read_text())["cpmlab"]["condition"]
        rows = [r for r in _tsv(beh) if r["about"] == "heat" and r["role"] == "test_stimulus"]
        events = [r for r in _tsv(beh.with_name(beh.name.replace("_beh.tsv", "_events.tsv")))]
        rated = [r["value"] for r in events if r["trial_type"] == "rating" and r["role"] == "test_stimulus"]
        assert rated == [r["rating"] for r in rows]  # the two raw files agree on every test-stimulus rating
        assert {r["scale"] for r in rows} <= {"vas"}
        means = {
            p: _mean([float(r["rating"]) for r in rows if r["phase"] == p and r["rating"] != "n/a"])
            for p in ("before", "during", "after")
        }
        before = means["before"]
        for name, phase in EFFECTS.items():
            x = means[phase]
            if before is None or x is None:
                continue
            key = (f"sub-{entities['sub']}", entities["task"], condition)
            per_run[(*key, name, f"ses-{entities['ses']}")].append(x - before)
            if before != 0:
                per_run[(*key, f"{name}_pct", f"ses-{entities['ses']}")].append(100.0 * (x - before) / before)
    return {k: float(np.mean(v)) for k, v in per_run.items()}


# ---------------------------------------------------------------- reference statistics


def t_ci(values: np.ndarray) -> tuple[float, float]:
    """95% t-interval of the mean."""
    n = len(values)
    half = t_dist.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return values.mean() - half, values.mean() + half


def wilcoxon(d: np.ndarray) -> tuple[float, float]:
    """Two-sided signed-rank test: W = min(T+, T-), p from all 2^n sign flips (zeros dropped, ties mid-ranked)."""
    d = d[d != 0]
    order = np.abs(d)
    ranks = np.array([np.sum(order < a) + (np.sum(order == a) + 1) / 2 for a in order])
    t_plus = ranks[d > 0].sum()
    w = min(t_plus, ranks.sum() - t_plus)
    flips = np.array(list(itertools.product([0, 1], repeat=len(d))))
    dist = flips @ ranks
    eps = 1e-9
    p = 2 * min(np.mean(dist <= t_plus + eps), np.mean(dist >= t_plus - eps))
    return float(w), float(min(p, 1.0))


def icc_reference(x: np.ndarray) -> dict[str, float]:
    """McGraw & Wong (1996): ICC(C,1), ICC(A,1) and their 95% F-based intervals for n x k scores."""
    n, k = x.shape
    grand = x.mean()
    msr = k * np.sum((x.mean(axis=1) - grand) ** 2) / (n - 1)
    msc = n * np.sum((x.mean(axis=0) - grand) ** 2) / (k - 1)
    mse = (np.sum((x - grand) ** 2) - msr * (n - 1) - msc * (k - 1)) / ((n - 1) * (k - 1))
    c1 = (msr - mse) / (msr + (k - 1) * mse)
    a1 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    f_obs = msr / mse
    fl = f_obs / f_dist.ppf(0.975, n - 1, (n - 1) * (k - 1))
    fu = f_obs * f_dist.ppf(0.975, (n - 1) * (k - 1), n - 1)
    a = k * a1 / (n * (1 - a1))
    b = 1 + k * a1 * (n - 1) / (n * (1 - a1))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_star_l = f_dist.ppf(0.975, n - 1, v)
    f_star_u = f_dist.ppf(0.975, v, n - 1)
    return {
        "icc_3_1": c1,
        "icc_3_1_ci_low": (fl - 1) / (fl + k - 1),
        "icc_3_1_ci_high": (fu - 1) / (fu + k - 1),
        "icc_2_1": a1,
        "icc_2_1_ci_low": n * (msr - f_star_l * mse) / (f_star_l * (k * msc + (k * n - k - n) * mse) + n * msr),
        "icc_2_1_ci_high": n * (f_star_u * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_star_u * msr),
    }


# ---------------------------------------------------------------- expected tables


def expected_tables(values: dict[Key, float]) -> dict[str, dict[Key, dict[str, Any]]]:
    """Return the expected participants, groups, contrast, retest_pairs and retest rows by their key."""
    series: dict[Key, dict[str, float]] = defaultdict(dict)  # (pid, task, cond, measure) -> {session: value}
    for (pid, task, cond, measure, ses), v in values.items():
        series[(pid, task, cond, measure, "0-100")][ses] = v
    participants, by_group = {}, defaultdict(dict)
    for (pid, task, cond, measure, rng), sessions in series.items():
        v = np.array([sessions[s] for s in sorted(sessions)])
        participants[(pid, task, cond, measure, rng)] = {
            "n_sessions": len(v),
            "mean": v.mean(),
            "sd": v.std(ddof=1) if len(v) > 1 else None,
            "median": float(np.median(v)),
        }
        by_group[(task, cond, measure, rng)][pid] = v
    groups = {}
    for key, people in by_group.items():
        means = np.array([v.mean() for _, v in sorted(people.items())])
        low, high = t_ci(means)
        groups[key] = {
            "n": len(means),
            "n_sessions": sum(len(v) for v in people.values()),
            "mean": means.mean(),
            "sd": means.std(ddof=1),
            "ci_low": low,
            "ci_high": high,
            "median": float(np.median(means)),
            "prop_inhibition": float(np.mean(means < 0)),
        }
    contrast = {}
    for task, cond, measure, rng in by_group:
        if cond != "active" or (task, "sham", measure, rng) not in by_group:
            continue
        act, sham = by_group[(task, "active", measure, rng)], by_group[(task, "sham", measure, rng)]
        both = sorted(set(act) & set(sham))
        a = np.array([act[p].mean() for p in both])
        s = np.array([sham[p].mean() for p in both])
        d = a - s
        n, sd = len(d), d.std(ddof=1)
        t_value = d.mean() / (sd / math.sqrt(n))
        low, high = t_ci(d)
        w, p_w = wilcoxon(d)
        contrast[(task, measure, rng)] = {
            "n": n,
            "mean_active": a.mean(),
            "mean_sham": s.mean(),
            "mean_diff": d.mean(),
            "sd_diff": sd,
            "diff_ci_low": low,
            "diff_ci_high": high,
            "t": t_value,
            "df": n - 1,
            "p_t": 2 * t_dist.sf(abs(t_value), n - 1),
            "wilcoxon_w": w,
            "p_wilcoxon": p_w,
            "dz": d.mean() / sd,
        }
    pairs, retest = {}, {}
    for (pid, task, cond, measure, rng), sessions in series.items():
        if {"ses-1", "ses-2"} <= set(sessions):
            pairs[(pid, task, cond, measure, rng)] = {
                "session_1": "ses-1",
                "session_2": "ses-2",
                "value_1": sessions["ses-1"],
                "value_2": sessions["ses-2"],
            }
    for key in by_group:
        rows = [v for k, v in sorted(pairs.items()) if k[1:] == key]
        if len(rows) < 2:
            continue
        x = np.array([[r["value_1"], r["value_2"]] for r in rows])
        sd = x.std(ddof=1)
        row: dict[str, Any] = {"n": len(rows), "sessions": "ses-1 | ses-2", **icc_reference(x), "sd_pooled": sd}
        for form in ("3_1", "2_1"):
            row[f"sem_{form}"] = sd * math.sqrt(1 - row[f"icc_{form}"])
            row[f"srd_{form}"] = 1.96 * math.sqrt(2) * row[f"sem_{form}"]
        retest[key] = row
    return {
        "participants": participants,
        "groups": groups,
        "contrast": contrast,
        "retest_pairs": pairs,
        "retest": retest,
    }


# ---------------------------------------------------------------- the test


KEYS = {
    "participants": ["participant_id", "task", "condition", "measure", "range"],
    "groups": ["task", "condition", "measure", "range"],
    "contrast": ["task", "measure", "range"],
    "retest_pairs": ["participant_id", "task", "condition", "measure", "range"],
    "retest": ["task", "condition", "measure", "range"],
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScoredDataset]:
    """12 participants (typical, no-cpm, facilitator) x 2 sessions x sequential active + sham, parallel, cold pressor."""
    root = tmp_path_factory.mktemp("recompute") / "ds"
    generate_study(root, N_PARTICIPANTS, 2, seed=7)
    return root, score_dataset(root)


def _same(got: object, want: object) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None or pd.isna(got)
    if isinstance(want, str):
        return got == want
    return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("table", list(KEYS))
def test_every_number_equals_the_independent_recomputation(study: tuple[Path, ScoredDataset], table: str) -> None:
    """Each table has exactly the expected rows, and every value in them equals the reference."""
    root, scored = study
    expected = expected_tables(raw_session_values(root))[table]
    got = getattr(scored, table)
    rows = {tuple(str(r[k]) for k in KEYS[table]): r for _, r in got.iterrows()}
    assert set(rows) == set(expected), table
    for key, want in expected.items():
        for column, value in want.items():
            assert _same(rows[key][column], value), (table, key, column, rows[key][column], value)


def test_one_retest_row_per_paradigm_and_condition(study: tuple[Path, ScoredDataset]) -> None:
    """cpm_late: sequential active, sequential sham and parallel active each have a row with CIs; no cold pressor."""
    _, scored = study
    late = scored.retest[scored.retest["measure"] == "cpm_late"]
    assert sorted(zip(late["task"], late["condition"], strict=True)) == [
        ("cpmparallel", "active"),
        ("cpmsequential", "active"),
        ("cpmsequential", "sham"),
    ]
    assert late["icc_3_1_ci_low"].notna().all() and late["icc_2_1_ci_high"].notna().all()
    assert set(late["n"]) == {N_PARTICIPANTS}
    for name in KEYS:
        assert "coldpressor" not in set(getattr(scored, name)["task"]), name
    contrast = scored.contrast
    assert set(contrast["task"]) == {"cpmsequential"} and set(contrast["n"]) == {N_PARTICIPANTS}


def test_generator_refuses_an_unknown_profile(tmp_path: Path) -> None:
    """An unknown profile name raises before anything is written."""
    from cpmlab.core.errors import CpmlabError

    with pytest.raises(CpmlabError, match="unknown profiles"):
        generate_study(tmp_path / "ds", 2, profiles=("typical", "super-responder"))
    assert not (tmp_path / "ds").exists()
