"""Assurance category of a local system: high risk, standard or earned autonomy.

NHS England, *Operational resilience and capacity planning for 2014/15* (seed 000, "Assurance and
sign-off", L420-432, and "Targeted funding and 'earned autonomy'", L466-475), sorts systems into
three cohorts by the risk they face in delivering the A&E and RTT standards:

* **high risk** — "most at risk of delivery of A&E and/or RTT": any standard not met in at least
  ``high_risk.min_months_not_met`` of the look-back months. Money is released only after a
  diagnostic of the provider (``needs_diagnostic``).
* **earned autonomy** — "RTT and A&E standards have been met consistently": every standard met
  in at least ``earned_autonomy.min_months_met`` of the look-back months, and (by default) no
  finance flag.
* **standard** — all others.

A month meets a standard when the system value is at or above the threshold (both standards are
"higher is better"). Months in the look-back without a value are *missing*: counted neither met
nor not met, and reported; more than ``look_back.max_missing_months`` of them for any standard
and no category is given. Every threshold lives in the versioned ``config.toml`` beside this
module; this module reads no store.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.errors import UsageError

CONFIG_FILE = "config.toml"
_SLACK = 1e-9
"""Floating-point slack when comparing a value with its threshold: 100 × (1 − 50 ÷ 1000) may come
out a hair under 95; this absorbs rounding noise only, it is not a tolerance on the standard."""


class Category(StrEnum):
    """The three assurance cohorts of seed 000 L468-475."""

    HIGH_RISK = "high_risk"
    STANDARD = "standard"
    EARNED_AUTONOMY = "earned_autonomy"

    @property
    def label(self) -> str:
        """The category as the guidance writes it ("high risk", "earned autonomy")."""
        return self.value.replace("_", " ")


# --- Configuration ------------------------------------------------------------------------------

_FORBID = ConfigDict(extra="forbid", frozen=True)


class LookBack(BaseModel):
    """How many months the category rests on and how many may be missing.

    Attributes:
        months: look-back months M, ending at the as-of month.
        max_missing_months: months without a value allowed per standard before no category
            can be given.
        source: where the choice comes from.
    """

    model_config = _FORBID
    months: int = Field(ge=1, le=120)
    max_missing_months: int = Field(ge=0)
    source: str


class StandardSpec(BaseModel):
    """One performance standard a system is judged on.

    Attributes:
        metric: metric id in the registry (``constitution.ae_4h``).
        label: short name printed in reasons.
        threshold: a month meets the standard when its value is at or above this (metric unit).
        source: where the threshold comes from.
    """

    model_config = _FORBID
    metric: str = Field(min_length=1)
    label: str = Field(min_length=1)
    threshold: float
    source: str


class EarnedAutonomyRule(BaseModel):
    """Earned autonomy: every standard met in at least ``min_months_met`` months."""

    model_config = _FORBID
    min_months_met: int = Field(ge=1)
    source: str


class HighRiskRule(BaseModel):
    """High risk: any standard not met in at least ``min_months_not_met`` months."""

    model_config = _FORBID
    min_months_not_met: int = Field(ge=1)
    source: str


FinanceEffect = Literal["none", "bars_earned_autonomy", "high_risk"]


class FinanceFlagRule(BaseModel):
    """What a set finance flag does (``none``, ``bars_earned_autonomy`` or ``high_risk``)."""

    model_config = _FORBID
    effect: FinanceEffect
    source: str


class Consequences(BaseModel):
    """What each category means for sign-off and the release of money."""

    model_config = _FORBID
    high_risk: str
    standard: str
    earned_autonomy: str

    def of(self, category: Category) -> str:
        """The consequence of ``category``."""
        text: str = getattr(self, category.value)
        return text


class CategoryConfig(BaseModel):
    """The versioned rule: look-back, standards, month counts, finance flag, consequences."""

    model_config = _FORBID
    title: str
    version: str = Field(min_length=1)
    source: str
    look_back: LookBack
    standards: list[StandardSpec] = Field(min_length=1)
    earned_autonomy: EarnedAutonomyRule
    high_risk: HighRiskRule
    finance_flag: FinanceFlagRule
    consequences: Consequences

    @model_validator(mode="after")
    def _consistent(self) -> CategoryConfig:
        months = self.look_back.months
        if self.earned_autonomy.min_months_met > months:
            raise ValueError(
                f"earned_autonomy.min_months_met ({self.earned_autonomy.min_months_met}) is more "
                f"than look_back.months ({months})"
            )
        if self.high_risk.min_months_not_met > months:
            raise ValueError(
                f"high_risk.min_months_not_met ({self.high_risk.min_months_not_met}) is more "
                f"than look_back.months ({months})"
            )
        if self.look_back.max_missing_months >= months:
            raise ValueError(
                f"look_back.max_missing_months ({self.look_back.max_missing_months}) must be "
                f"less than look_back.months ({months})"
            )
        if self.earned_autonomy.min_months_met + self.high_risk.min_months_not_met <= months:
            raise ValueError(
                "earned_autonomy.min_months_met + high_risk.min_months_not_met must exceed "
                "look_back.months, so that no system can qualify for both"
            )
        metrics = [s.metric for s in self.standards]
        repeated = sorted({m for m in metrics if metrics.count(m) > 1})
        if repeated:
            raise ValueError(f"standards repeat metric(s): {', '.join(repeated)}")
        return self


def parse_config(text: str, name: str = CONFIG_FILE) -> CategoryConfig:
    """A category configuration from TOML text.

    Raises:
        UsageError: not valid TOML, or a field is missing, unknown or out of range; the message
            names the file.
    """
    try:
        return CategoryConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{name}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise UsageError(f"{name}: {problems}") from None


@cache
def default_config() -> CategoryConfig:
    """The packaged configuration (read once, then cached)."""
    text = resources.files("flowplan.assurance").joinpath(CONFIG_FILE).read_text(encoding="utf-8")
    return parse_config(text)


def load_config(path: Path | None = None) -> CategoryConfig:
    """The configuration in ``path``, or the packaged one when None.

    Raises:
        UsageError: the file cannot be read or is not a valid configuration.
    """
    if path is None:
        return default_config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    return parse_config(text, str(path))


# --- History in, classification out ------------------------------------------------------------


@dataclass(frozen=True)
class MonthlySeries:
    """A system's monthly values of one metric.

    Attributes:
        metric: metric id.
        values: month (first day) → value in the metric's unit; months absent are not known.
        gaps: months known to be incomplete and left out of ``values``, with why.
        basis: how the values were derived.
    """

    metric: str
    values: dict[date, float]
    gaps: dict[date, str] = field(default_factory=dict)
    basis: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SystemHistory:
    """The monthly history a system is classified on.

    Attributes:
        system: footprint code.
        series: metric id → monthly series.
        basis: how the history was put together (members, sources).
    """

    system: str
    series: dict[str, MonthlySeries]
    basis: list[str] = field(default_factory=list)

    def latest_common_month(self, metrics: list[str]) -> date | None:
        """The latest month in which every one of ``metrics`` has a value (None: no such month)."""
        sets = [set(self.series[m].values) if m in self.series else set() for m in metrics]
        common = set.intersection(*sets) if sets else set()
        return max(common) if common else None


@dataclass(frozen=True)
class StandardFigures:
    """One standard over the look-back months.

    Attributes:
        metric: metric id.
        label: short name.
        threshold: the standard.
        values: month → value for the months with one.
        met: months at or above the threshold.
        not_met: months below it.
        missing: months without a value, with why where known.
    """

    metric: str
    label: str
    threshold: float
    values: dict[date, float]
    met: list[date]
    not_met: list[date]
    missing: dict[date, str]


@dataclass(frozen=True)
class Classification:
    """A system's assurance category and what it rests on.

    Attributes:
        system: footprint code.
        category: high risk, standard or earned autonomy.
        reasons: one line per step of the rule, with the numbers it rests on.
        needs_diagnostic: the category is high risk: money waits on a diagnostic of the provider.
        figures: metric id → the standard's months met, not met and missing.
        months: the look-back months, oldest first.
        finance_flag: whether the finance flag was set.
        consequence: what the category means for sign-off and money.
        config_version: version of the configuration applied.
    """

    system: str
    category: Category
    reasons: list[str]
    needs_diagnostic: bool
    figures: dict[str, StandardFigures]
    months: list[date]
    finance_flag: bool
    consequence: str
    config_version: str


def month_start(value: date) -> date:
    """The first day of ``value``'s month."""
    return value.replace(day=1)


def look_back_months(as_of: date, months: int) -> list[date]:
    """The ``months`` months ending at ``as_of``'s month, oldest first."""
    end = as_of.year * 12 + as_of.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(end - months + 1, end + 1)]


def _span(months: list[date]) -> str:
    return f"{months[0]:%b %Y}–{months[-1]:%b %Y}"


def _months_text(months: list[date]) -> str:
    return ", ".join(f"{m:%b %Y}" for m in months)


def _figures(spec: StandardSpec, series: MonthlySeries, months: list[date]) -> StandardFigures:
    values = {m: series.values[m] for m in months if m in series.values}
    met = [m for m, v in values.items() if v >= spec.threshold - _SLACK]
    not_met = [m for m, v in values.items() if v < spec.threshold - _SLACK]
    missing = {m: series.gaps.get(m, "no value stored") for m in months if m not in values}
    return StandardFigures(
        metric=spec.metric,
        label=spec.label,
        threshold=spec.threshold,
        values=values,
        met=met,
        not_met=not_met,
        missing=missing,
    )


def _describe(fig: StandardFigures, months: list[date]) -> str:
    text = (
        f"{fig.label} ({fig.metric}): standard {fig.threshold:g} met in {len(fig.met)} of "
        f"{len(months)} months {_span(months)}, not met in {len(fig.not_met)}"
    )
    if fig.values:
        low, high = min(fig.values.values()), max(fig.values.values())
        latest = max(fig.values)
        text += f"; range {low:.2f}–{high:.2f}, latest {fig.values[latest]:.2f} ({latest:%b %Y})"
    if fig.missing:
        why = "; ".join(f"{m:%b %Y}: {reason}" for m, reason in fig.missing.items())
        text += f"; {len(fig.missing)} missing, counted neither met nor not met ({why})"
    return text


def classify(
    history: SystemHistory,
    config: CategoryConfig,
    finance_flag: bool,
    as_of: date | None = None,
) -> Classification:
    """Classify a system as high risk, standard or earned autonomy.

    Args:
        history: the system's monthly values of each configured standard's metric.
        config: the versioned rule (:func:`load_config`).
        finance_flag: the system's finances are of concern; acts as ``config.finance_flag``
            says.
        as_of: last month of the look-back (any day in it); default the latest month in which
            every standard has a value.

    Returns:
        The category, the reasons with their numbers, whether a diagnostic is needed, and the
        figures per standard.

    Raises:
        UsageError: a configured standard has no series in the history, no month has every
            standard, or more months are missing than ``look_back.max_missing_months``.
    """
    metrics = [s.metric for s in config.standards]
    absent = [m for m in metrics if m not in history.series]
    if absent:
        raise UsageError(f"{history.system}: no history of {', '.join(absent)}")
    if as_of is None:
        latest = history.latest_common_month(metrics)
        if latest is None:
            empty = [m for m in metrics if not history.series[m].values]
            why = f"no values of {', '.join(empty)}" if empty else "their months do not overlap"
            raise UsageError(
                f"{history.system}: no month has a value of every standard "
                f"({', '.join(metrics)}): {why}; nothing to classify"
            )
        as_of = latest
    months = look_back_months(month_start(as_of), config.look_back.months)
    figures = {s.metric: _figures(s, history.series[s.metric], months) for s in config.standards}
    allowed = config.look_back.max_missing_months
    for fig in figures.values():
        if len(fig.missing) > allowed:
            raise UsageError(
                f"{history.system}: {fig.label} has {len(fig.missing)} of {len(months)} months "
                f"missing in {_span(months)} ({_months_text(list(fig.missing))}); at most "
                f"{allowed} allowed (look_back.max_missing_months, config {config.version}) — "
                "choose an earlier --as-of or load the missing months"
            )

    reasons = [f"look-back: {len(months)} months {_span(months)} (config {config.version})"]
    reasons += [_describe(fig, months) for fig in figures.values()]

    hr_need = config.high_risk.min_months_not_met
    ea_need = config.earned_autonomy.min_months_met
    failing = [f for f in figures.values() if len(f.not_met) >= hr_need]
    all_met = all(len(f.met) >= ea_need for f in figures.values())
    effect = config.finance_flag.effect

    if failing:
        category = Category.HIGH_RISK
        for fig in failing:
            reasons.append(
                f"high risk: {fig.label} not met in {len(fig.not_met)} months, at or above "
                f"high_risk.min_months_not_met = {hr_need}"
            )
    elif all_met:
        category = Category.EARNED_AUTONOMY
        reasons.append(
            f"earned autonomy: every standard met in at least "
            f"earned_autonomy.min_months_met = {ea_need} of {len(months)} months"
        )
    else:
        category = Category.STANDARD
        short = [f for f in figures.values() if len(f.met) < ea_need]
        for fig in short:
            reasons.append(
                f"not earned autonomy: {fig.label} met in {len(fig.met)} months, below "
                f"earned_autonomy.min_months_met = {ea_need}"
            )
        reasons.append(
            f"not high risk: no standard not met in {hr_need} or more months "
            f"(high_risk.min_months_not_met)"
        )

    if finance_flag:
        if effect == "high_risk" and category is not Category.HIGH_RISK:
            category = Category.HIGH_RISK
            reasons.append("finance flag set: finance_flag.effect = high_risk → high risk")
        elif effect == "bars_earned_autonomy" and category is Category.EARNED_AUTONOMY:
            category = Category.STANDARD
            reasons.append(
                "finance flag set: finance_flag.effect = bars_earned_autonomy → standard "
                "(earned autonomy needs a sound financial footing)"
            )
        else:
            reasons.append(f"finance flag set: finance_flag.effect = {effect}; the category stands")
    else:
        reasons.append("finance flag not set")

    needs_diagnostic = category is Category.HIGH_RISK
    consequence = config.consequences.of(category)
    reasons.append(f"{category.label}: {consequence}")
    return Classification(
        system=history.system,
        category=category,
        reasons=reasons,
        needs_diagnostic=needs_diagnostic,
        figures=figures,
        months=months,
        finance_flag=finance_flag,
        consequence=consequence,
        config_version=config.version,
    )
