"""The assurance rule: every threshold at, just below and just above; finance flag; gaps."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flowplan.assurance.category import (
    Category,
    CategoryConfig,
    MonthlySeries,
    SystemHistory,
    classify,
    default_config,
    load_config,
    look_back_months,
    parse_config,
)
from flowplan.errors import UsageError
from flowplan.metrics.registry import get

AE = "constitution.ae_4h"
RTT = "constitution.rtt_incomplete_18w"
AS_OF = date(2025, 2, 1)
MONTHS = look_back_months(AS_OF, 12)  # Mar 2024 – Feb 2025


def config(**changes: Any) -> CategoryConfig:
    """The packaged configuration with some values changed (dotted keys: look_back.months)."""
    data = default_config().model_dump()
    for key, value in changes.items():
        section, name = key.split("__")
        data[section][name] = value
    return CategoryConfig.model_validate(data)


def history(
    ae: list[float | None],
    rtt: list[float | None] | None = None,
    gaps: dict[date, str] | None = None,
) -> SystemHistory:
    """A system whose A&E and RTT take the given values over MONTHS (None: missing)."""
    rtt_values = rtt if rtt is not None else [99.0] * len(MONTHS)

    def series(metric: str, values: list[float | None]) -> MonthlySeries:
        return MonthlySeries(
            metric,
            {m: v for m, v in zip(MONTHS, values, strict=True) if v is not None},
            gaps or {},
        )

    return SystemHistory("SYS", {AE: series(AE, ae), RTT: series(RTT, rtt_values)})


def mixed(met: int, not_met: int, missing: int = 0, good: float = 96.0) -> list[float | None]:
    """12 months: ``met`` at ``good``, ``not_met`` at 90, ``missing`` absent (oldest first)."""
    values: list[float | None] = [good] * met + [90.0] * not_met + [None] * missing
    assert len(values) == len(MONTHS)
    return values


# --- configuration -------------------------------------------------------------------------------


def test_packaged_config_values_and_sources() -> None:
    cfg = default_config()
    assert cfg.version == "2014-15.1"
    assert (cfg.look_back.months, cfg.look_back.max_missing_months) == (12, 3)
    assert cfg.earned_autonomy.min_months_met == 12
    assert cfg.high_risk.min_months_not_met == 7
    assert cfg.finance_flag.effect == "bars_earned_autonomy"
    assert [(s.metric, s.threshold) for s in cfg.standards] == [(AE, 95.0), (RTT, 92.0)]
    for part in (cfg.look_back, cfg.earned_autonomy, cfg.high_risk, cfg.finance_flag):
        assert "seed 000" in part.source


def test_standards_equal_the_metric_registry() -> None:
    for spec in default_config().standards:
        defn = get(spec.metric)
        assert defn.standard == spec.threshold
        assert defn.direction == "higher_is_better"
        assert defn.grain == "month"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"earned_autonomy__min_months_met": 13}, "is more than look_back.months"),
        ({"high_risk__min_months_not_met": 13}, "is more than look_back.months"),
        ({"look_back__max_missing_months": 12}, "must be less than look_back.months"),
        (
            {"earned_autonomy__min_months_met": 6, "high_risk__min_months_not_met": 6},
            "no system can qualify for both",
        ),
        ({"finance_flag__effect": "sometimes"}, "finance_flag.effect"),
        ({"look_back__surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_configs_are_refused(changes: dict[str, Any], message: str) -> None:
    data = default_config().model_dump()
    for key, value in changes.items():
        section, name = key.split("__")
        data[section][name] = value
    text = config_toml(data)
    with pytest.raises(UsageError, match=message):
        parse_config(text, "bad.toml")


def config_toml(data: dict[str, Any]) -> str:
    """A minimal TOML writer for the config's shape (tables of scalars, one array of tables)."""

    def scalar(value: Any) -> str:
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(value)

    lines = [f"{k} = {scalar(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {scalar(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def test_config_round_trips_and_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rule.toml"
    path.write_text(config_toml(default_config().model_dump()), encoding="utf-8")
    assert load_config(path) == default_config()
    assert load_config(None) is default_config()
    with pytest.raises(UsageError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(UsageError, match="not valid TOML"):
        parse_config("version = ", "x.toml")


# --- the standards: a month meets one at or above its threshold ---------------------------------


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (95.0, Category.EARNED_AUTONOMY),  # at: met in all 12 months
        (94.99, Category.HIGH_RISK),  # just below: not met in 12 ≥ 7
        (95.01, Category.EARNED_AUTONOMY),  # just above
        (100 * (1 - 50 / 1000), Category.EARNED_AUTONOMY),  # 95 computed from counts
    ],
)
def test_ae_threshold(value: float, category: Category) -> None:
    got = classify(history([value] * 12), default_config(), False)
    assert got.category is category
    fig = got.figures[AE]
    assert len(fig.met) == (12 if category is Category.EARNED_AUTONOMY else 0)


@pytest.mark.parametrize(
    ("value", "met"),
    [(92.0, 12), (91.99, 0), (92.01, 12)],
)
def test_rtt_threshold(value: float, met: int) -> None:
    got = classify(history([96.0] * 12, [value] * 12), default_config(), False)
    assert len(got.figures[RTT].met) == met
    assert len(got.figures[RTT].not_met) == 12 - met
    expected = Category.EARNED_AUTONOMY if met == 12 else Category.HIGH_RISK
    assert got.category is expected
    assert got.needs_diagnostic is (expected is Category.HIGH_RISK)


# --- earned autonomy: every standard met in ≥ min_months_met months -----------------------------


@pytest.mark.parametrize(
    ("met", "category"),
    [(12, Category.EARNED_AUTONOMY), (11, Category.STANDARD)],  # at 12; just below
)
def test_earned_autonomy_needs_every_month_by_default(met: int, category: Category) -> None:
    got = classify(history(mixed(met, 12 - met)), default_config(), False)
    assert got.category is category
    assert got.needs_diagnostic is False
    if category is Category.STANDARD:
        assert any(
            f"A&E 4-hour met in {met} months, below earned_autonomy.min_months_met = 12" in r
            for r in got.reasons
        )


@pytest.mark.parametrize(
    ("met", "category"),
    [(10, Category.EARNED_AUTONOMY), (9, Category.STANDARD), (11, Category.EARNED_AUTONOMY)],
)
def test_earned_autonomy_at_below_above_a_lower_count(met: int, category: Category) -> None:
    cfg = config(earned_autonomy__min_months_met=10)
    got = classify(history(mixed(met, 12 - met)), cfg, False)
    assert got.category is category


def test_earned_autonomy_needs_both_standards() -> None:
    got = classify(history([96.0] * 12, mixed(11, 1, good=93.0)), default_config(), False)
    assert got.category is Category.STANDARD
    assert any("RTT incomplete pathways within 18 weeks met in 11 months" in r for r in got.reasons)


# --- high risk: any standard not met in ≥ min_months_not_met months -----------------------------


@pytest.mark.parametrize(
    ("not_met", "category"),
    [(7, Category.HIGH_RISK), (6, Category.STANDARD), (8, Category.HIGH_RISK)],
)
def test_high_risk_at_below_above(not_met: int, category: Category) -> None:
    got = classify(history(mixed(12 - not_met, not_met)), default_config(), False)
    assert got.category is category
    assert got.needs_diagnostic is (category is Category.HIGH_RISK)
    assert len(got.figures[AE].not_met) == not_met
    if category is Category.HIGH_RISK:
        assert (
            f"high risk: A&E 4-hour not met in {not_met} months, at or above "
            "high_risk.min_months_not_met = 7"
        ) in got.reasons
        assert "diagnostic" in got.consequence
    else:
        assert any(r.startswith("not high risk") for r in got.reasons)


def test_high_risk_on_rtt_alone() -> None:
    got = classify(history([99.0] * 12, mixed(5, 7, good=92.5)), default_config(), False)
    assert got.category is Category.HIGH_RISK
    assert got.needs_diagnostic
    assert any(r.startswith("high risk: RTT incomplete") for r in got.reasons)


# --- the finance flag -------------------------------------------------------------------------


def test_finance_flag_bars_earned_autonomy_by_default() -> None:
    cfg = default_config()
    assert classify(history([96.0] * 12), cfg, False).category is Category.EARNED_AUTONOMY
    got = classify(history([96.0] * 12), cfg, True)
    assert got.category is Category.STANDARD
    assert got.finance_flag is True
    assert not got.needs_diagnostic
    assert any("finance_flag.effect = bars_earned_autonomy → standard" in r for r in got.reasons)
    # a standard or high-risk system is unchanged by it
    assert classify(history(mixed(8, 4)), cfg, True).category is Category.STANDARD
    assert classify(history(mixed(5, 7)), cfg, True).category is Category.HIGH_RISK


def test_finance_flag_effects_none_and_high_risk() -> None:
    none = config(finance_flag__effect="none")
    assert classify(history([96.0] * 12), none, True).category is Category.EARNED_AUTONOMY
    severe = config(finance_flag__effect="high_risk")
    got = classify(history(mixed(8, 4)), severe, True)
    assert got.category is Category.HIGH_RISK
    assert got.needs_diagnostic
    assert "finance flag set: finance_flag.effect = high_risk → high risk" in got.reasons
    assert classify(history(mixed(8, 4)), severe, False).category is Category.STANDARD


# --- missing months -----------------------------------------------------------------------------


def test_missing_months_at_the_limit_are_reported_and_count_neither_way() -> None:
    gaps = {MONTHS[-1]: "RXR not reported"}
    # 9 met, 3 missing: not 12 met (no earned autonomy), 0 not met (not high risk)
    got = classify(history(mixed(9, 0, 3), gaps=gaps), default_config(), False, AS_OF)
    assert got.category is Category.STANDARD
    fig = got.figures[AE]
    assert (len(fig.met), len(fig.not_met), len(fig.missing)) == (9, 0, 3)
    assert fig.missing[MONTHS[-1]] == "RXR not reported"
    assert fig.missing[MONTHS[-2]] == "no value stored"
    line = next(r for r in got.reasons if r.startswith("A&E 4-hour"))
    assert "3 missing, counted neither met nor not met" in line
    assert "Feb 2025: RXR not reported" in line


def test_missing_months_below_the_limit_and_high_risk_still_possible() -> None:
    got = classify(history(mixed(3, 7, 2)[::-1]), default_config(), False, AS_OF)
    assert got.category is Category.HIGH_RISK
    assert len(got.figures[AE].missing) == 2


def test_missing_months_above_the_limit_give_no_category() -> None:
    with pytest.raises(UsageError, match=r"A&E 4-hour has 4 of 12 months missing .* at most 3"):
        classify(history(mixed(8, 0, 4)[::-1]), default_config(), False, AS_OF)
    # a looser configuration accepts them
    got = classify(
        history(mixed(8, 0, 4)[::-1]), config(look_back__max_missing_months=4), False, AS_OF
    )
    assert got.category is Category.STANDARD


def test_default_as_of_is_the_latest_month_with_every_standard() -> None:
    ae = mixed(12, 0)
    rtt: list[float | None] = [99.0] * 10 + [None, None]  # RTT published two months later
    got = classify(history(ae, rtt), default_config(), False)
    assert got.months[-1] == date(2024, 12, 1)
    assert got.months[0] == date(2024, 1, 1)
    assert len(got.months) == 12
    # Jan and Feb 2024 are before the history: missing for both standards
    assert sorted(got.figures[AE].missing) == [date(2024, 1, 1), date(2024, 2, 1)]


def test_look_back_months_cross_the_year() -> None:
    assert look_back_months(date(2025, 2, 17), 3) == [
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]


def test_history_errors() -> None:
    cfg = default_config()
    only_ae = SystemHistory("SYS", {AE: MonthlySeries(AE, {MONTHS[0]: 96.0})})
    with pytest.raises(UsageError, match=r"no history of constitution\.rtt_incomplete_18w"):
        classify(only_ae, cfg, False)
    empty_rtt = SystemHistory(
        "SYS", {AE: MonthlySeries(AE, {MONTHS[0]: 96.0}), RTT: MonthlySeries(RTT, {})}
    )
    with pytest.raises(UsageError, match=r"no values of constitution\.rtt_incomplete_18w"):
        classify(empty_rtt, cfg, False)
