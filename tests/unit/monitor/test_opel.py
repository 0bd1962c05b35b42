"""OPEL-style escalation: every band edge of every packaged indicator, the level bands and the
reasons text.

Thresholds come from ``src/flowplan/monitor/opel.toml`` (version 2025-26.1); the sources are in
that file: G&A occupancy 85% (NAO via NICE NG94 ch. 39), 92% (UEC recovery delivery plan, Jan
2023), 95% (local); criteria to reside 10/15/20% (local, definition as uec.ctr); trolley waits
10/25/40% (local, definition as uec.dta_over_4h); handover time lost 5/15/30 minutes (local,
definition as uec.handover_minutes_lost). The tests hold the file's numbers, so a change to the
file is a visible change here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowplan.errors import UsageError
from flowplan.monitor.opel import (
    episodes,
    indicator_frame,
    level_of,
    level_summary,
    load_config,
    opel_levels,
    opel_scores,
    parse_config,
)

CFG = load_config()

EDGES = {
    "ga_occupancy": [85.0, 92.0, 95.0],
    "nctr_share": [10.0, 15.0, 20.0],
    "trolley_waits": [10.0, 25.0, 40.0],
    "handover_delay": [5.0, 15.0, 30.0],
}
WEIGHTS = {"ga_occupancy": 3.0, "nctr_share": 2.0, "trolley_waits": 2.0, "handover_delay": 3.0}


def test_packaged_config_is_versioned_and_sourced() -> None:
    assert CFG.version == "2025-26.1"
    assert "Operational Pressures Escalation Levels Framework 2023/24" in CFG.source
    assert [i.id for i in CFG.indicators] == list(EDGES)
    for ind in CFG.indicators:
        assert ind.thresholds == EDGES[ind.id]
        assert ind.scores == [0, 1, 2, 3]
        assert ind.weight == WEIGHTS[ind.id]
        assert ind.source
    assert [(lv.level, lv.min_score_pct) for lv in CFG.levels] == [
        (1, 0.0),
        (2, 25.0),
        (3, 50.0),
        (4, 75.0),
    ]


@pytest.mark.parametrize("indicator", list(EDGES))
def test_each_band_edge_below_at_and_above(indicator: str) -> None:
    """Below an edge stays in the better band; on it and above go to the worse band."""
    rows = []
    expected = []
    day = pd.Timestamp("2025-01-01")
    for k, edge in enumerate(EDGES[indicator]):
        for delta, band in ((-0.01, k + 1), (0.0, k + 2), (0.01, k + 2)):
            rows.append((day, indicator, edge + delta))
            expected.append(band)
            day += pd.Timedelta(days=1)
    scores = opel_scores(indicator_frame(rows), CFG)
    assert scores["band"].tolist() == expected
    assert scores["score"].tolist() == [float(b - 1) for b in expected]
    assert scores["points"].tolist() == [(b - 1) * WEIGHTS[indicator] for b in expected]
    assert (scores["max_points"] == 3 * WEIGHTS[indicator]).all()


def test_float_noise_on_an_edge_counts_as_on_it() -> None:
    # 100 × 828 ÷ 900 = 92.00000000000001 in floats: on the 92% edge → band 3
    value = 828 / 900 * 100
    got = opel_scores(indicator_frame([("2025-01-01", "ga_occupancy", value)]), CFG)
    assert got["band"].tolist() == [3]


def test_lower_is_worse_bands_mirror() -> None:
    cfg = parse_config(
        {
            "title": "t",
            "version": "1",
            "source": "test",
            "levels": [
                {"level": 1, "name": "L1", "min_score_pct": 0},
                {"level": 2, "name": "L2", "min_score_pct": 50},
            ],
            "indicators": [
                {
                    "id": "free_beds",
                    "name": "Free beds",
                    "unit": "beds",
                    "direction": "lower_is_worse",
                    "thresholds": [10, 20, 30],
                    "scores": [0, 1, 2, 3],
                    "weight": 1,
                    "source": "test",
                }
            ],
        }
    )
    values = [31, 30, 29, 20, 19, 10, 9]
    got = opel_scores(
        indicator_frame(
            [
                (pd.Timestamp("2025-01-01") + pd.Timedelta(days=i), "free_beds", v)
                for i, v in enumerate(values)
            ]
        ),
        cfg,
    )
    assert got["band"].tolist() == [1, 2, 2, 3, 3, 4, 4]
    assert "band 2 of 4 (≤ 30 and > 20)" in got["reason"].iloc[1]
    assert "band 4 of 4 (≤ 10)" in got["reason"].iloc[5]


@pytest.mark.parametrize(
    ("pct", "level"),
    [(0.0, 1), (24.99, 1), (25.0, 2), (49.99, 2), (50.0, 3), (74.99, 3), (75.0, 4), (100.0, 4)],
)
def test_level_bands_at_below_and_above_each_edge(pct: float, level: int) -> None:
    assert level_of(pct, CFG) == level


def test_levels_from_weighted_scores_and_reasons() -> None:
    frame = indicator_frame(
        [
            # day 1: all four in band 1 → 0 of 30 points → OPEL 1
            ("2025-01-01", "ga_occupancy", 80.0),
            ("2025-01-01", "nctr_share", 5.0),
            ("2025-01-01", "trolley_waits", 5.0),
            ("2025-01-01", "handover_delay", 2.0),
            # day 2: occupancy 93.5% band 3 (2 × 3 = 6), NCTR 15% band 3 (2 × 2 = 4),
            # trolley waits 9.99% band 1 (0), handover 15 min band 3 (2 × 3 = 6): 16 of 30 = 53.3%
            ("2025-01-02", "ga_occupancy", 93.5),
            ("2025-01-02", "nctr_share", 15.0),
            ("2025-01-02", "trolley_waits", 9.99),
            ("2025-01-02", "handover_delay", 15.0),
            # day 3: only occupancy (96%, band 4: 9 of 9 points) → 100% → OPEL 4
            ("2025-01-03", "ga_occupancy", 96.0),
            ("2025-01-03", "nctr_share", None),
        ]
    )
    levels = opel_levels(frame, CFG)
    assert levels["level"].tolist() == [1, 3, 4]
    assert levels["level_name"].tolist() == ["OPEL 1", "OPEL 3", "OPEL 4"]
    assert levels["score"].tolist() == [0.0, 16.0, 9.0]
    assert levels["max_score"].tolist() == [30.0, 30.0, 9.0]
    assert levels["score_pct"].tolist() == pytest.approx([0.0, 16 / 30 * 100, 100.0])
    assert levels["indicators"].tolist() == [4, 4, 1]
    day2 = levels["reasons"].iloc[1]
    assert day2[0] == (
        "G&A bed occupancy 93.5 % → band 3 of 4 (≥ 92 and < 95): score 2 × weight 3 = 6 points"
    )
    assert day2[1].startswith("Ambulance handover time lost per handover 15 minutes per handover")
    assert day2[2].startswith(
        "Beds occupied by patients not meeting the criteria to reside 15 % of adult G&A beds "
        "occupied → band 3 of 4 (≥ 15 and < 20): score 2 × weight 2 = 4 points"
    )
    assert day2[3] == (
        "Waits over 4 hours from decision to admit 9.99 % of emergency admissions → band 1 of 4 "
        "(< 10): score 0 × weight 2 = 0 points"
    )
    day3 = levels["reasons"].iloc[2]
    assert day3[0].endswith("band 4 of 4 (≥ 95): score 3 × weight 3 = 9 points")
    assert day3[1:] == [
        "Beds occupied by patients not meeting the criteria to reside: no data",
        "Waits over 4 hours from decision to admit: no data",
        "Ambulance handover time lost per handover: no data",
    ]


def test_min_indicators_leaves_thin_days_without_a_level() -> None:
    cfg = CFG.model_copy(update={"min_indicators": 2})
    levels = opel_levels(indicator_frame([("2025-01-03", "ga_occupancy", 96.0)]), cfg)
    assert levels["level"].isna().all()
    assert levels["reasons"].iloc[0][-1] == (
        "no level: 1 indicator(s) with data, fewer than the 2 required"
    )


def test_history_summary_and_episodes() -> None:
    occupancy = [80, 80, 96, 96, 96, 80]  # OPEL 1, 1, 4, 4, 4, 1
    frame = indicator_frame(
        [
            (pd.Timestamp("2025-01-01") + pd.Timedelta(days=i), "ga_occupancy", v)
            for i, v in enumerate(occupancy)
        ]
    )
    levels = opel_levels(frame, CFG)
    summary = level_summary(levels, CFG)
    assert summary["days"].tolist() == [3, 0, 0, 3]
    assert summary["share_pct"].tolist() == [50.0, 0.0, 0.0, 50.0]
    runs = episodes(levels, CFG)
    assert runs[["days", "level"]].values.tolist() == [[2, 1], [3, 4], [1, 1]]
    assert runs["start"].iloc[1] == pd.Timestamp("2025-01-03")
    assert runs["end"].iloc[1] == pd.Timestamp("2025-01-05")


def test_bad_inputs_and_configs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown escalation indicator"):
        opel_levels(indicator_frame([("2025-01-01", "ed_occupancy", 1.0)]), CFG)
    with pytest.raises(UsageError, match="more than one value of ga_occupancy"):
        opel_levels(
            indicator_frame(
                [("2025-01-01", "ga_occupancy", 1.0), ("2025-01-01", "ga_occupancy", 2.0)]
            ),
            CFG,
        )
    with pytest.raises(UsageError, match="missing value"):
        opel_levels(pd.DataFrame({"date": [], "indicator": []}), CFG)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'title = "t"\nversion = "1"\nsource = "s"\n'
        '[[levels]]\nlevel = 1\nname = "L1"\nmin_score_pct = 0\n'
        '[[levels]]\nlevel = 2\nname = "L2"\nmin_score_pct = 50\n'
        '[[indicators]]\nid = "x"\nname = "X"\nunit = "u"\nthresholds = [2, 1]\n'
        'scores = [0, 1, 2]\nweight = 1\nsource = "s"\n'
        'numerator = { measure = "no_such_measure" }\n',
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as caught:
        load_config(bad)
    text = str(caught.value)
    assert "not a measure in measures.csv" in text
    with pytest.raises(UsageError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
