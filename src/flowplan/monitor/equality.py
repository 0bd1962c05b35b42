"""Equality cuts of plan KPIs: the breakdown labels for deprivation and ethnicity, and per-cut sums.

The product brief asks for actual vs plan "cut by deprivation decile and ethnicity where the data
has them". No published NHS series flowplan reads is cut that way; a local extract can be, by
storing one series per cut under a **breakdown label** of this convention:

* **deprivation**: ``imd_decile_1`` … ``imd_decile_10``, the Index of Multiple Deprivation decile
  of the patient's area of residence (the English Indices of Deprivation, MHCLG: LSOAs ranked by
  the IMD and split into tenths), **1 = the most deprived 10 %**, 10 = the least deprived;
* **ethnicity**: ``ethnicity_<group>`` with the ONS Census 2021 high-level ethnic groups
  ``asian`` (Asian, Asian British or Asian Welsh), ``black`` (Black, Black British, Black Welsh,
  Caribbean or African), ``mixed`` (Mixed or Multiple ethnic groups), ``white`` (White) and
  ``other`` (Other ethnic group), and for records without one ``not_stated`` (the person was
  asked and did not say; NHS ethnic category code Z) and ``not_known`` (not recorded; code 99).

A plain label is a cut of the measure's whole (its ``all`` breakdown). A metric whose numerator or
denominator is another breakdown of a measure (``discharges`` ``by_1700`` ÷ ``discharges``
``all``) is cut with a qualified label ``<breakdown>:<label>``: ``by_1700:imd_decile_1`` over
``imd_decile_1``. Labels are lower case, exactly as written here; a label that starts like one
(``imd_decile_11``, ``ethnicity_chinese``) is refused by :func:`parse_label` rather than read as
something else.

A KPI's value for a cut is computed like its value for the whole: the **numerator and the
denominator of each cut are summed** over the organisations of a footprint and then divided
(:func:`flowplan.monitor.rollup.rollup`), never the mean of the organisations' rates, and only
for the months every organisation storing that cut reports. The value uses the metric's own
rule (complement, scale, per month); a count metric's value is the summed count.

Pure: no store, no files. :func:`flowplan.store.monitor_inputs.plan_cut_actuals` reads the stored
cuts; :func:`flowplan.monitor.kpis.kpi_by_breakdown` rates each cut against the plan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from flowplan.errors import UsageError
from flowplan.metrics.compute import compute
from flowplan.metrics.registry import MetricDefinition
from flowplan.monitor.rollup import rollup

IMD_PREFIX = "imd_decile_"
ETHNICITY_PREFIX = "ethnicity_"
QUALIFIER = ":"
"""Separates the breakdown being cut from the equality label (``by_1700:imd_decile_1``)."""
DECILES = range(1, 11)
ETHNIC_GROUPS: dict[str, str] = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
    "not_stated": "Not stated",
    "not_known": "Not known",
}
"""Ethnicity slugs → names: the ONS Census 2021 high-level groups in the ONS order, then the two
codes for records without a group (NHS ethnic category Z "not stated" and 99 "not known")."""
CUT_COLUMNS: tuple[str, ...] = (
    "period_start",
    "breakdown",
    "dimension",
    "numerator",
    "denominator",
    "value",
    "orgs_reporting",
    "orgs",
)


class Dimension(StrEnum):
    """An equality dimension a KPI can be cut by."""

    DEPRIVATION = "deprivation"
    ETHNICITY = "ethnicity"

    @property
    def heading(self) -> str:
        """Heading of the dimension's table."""
        if self is Dimension.DEPRIVATION:
            return "Deprivation decile (English IMD; 1 = most deprived)"
        return "Ethnic group (ONS Census 2021 high-level groups)"


@dataclass(frozen=True)
class Cut:
    """One equality cut named by a stored breakdown label.

    Attributes:
        dimension: deprivation or ethnicity.
        key: the decile (``"1"`` … ``"10"``) or the ethnicity slug (``"asian"``).
        base: the breakdown of the measure being cut (``"all"`` for a plain label).
    """

    dimension: Dimension
    key: str
    base: str = "all"

    @property
    def label(self) -> str:
        """The equality label without its qualifier (``imd_decile_1``, ``ethnicity_asian``)."""
        prefix = IMD_PREFIX if self.dimension is Dimension.DEPRIVATION else ETHNICITY_PREFIX
        return f"{prefix}{self.key}"

    @property
    def stored(self) -> str:
        """The breakdown label as stored (``imd_decile_1`` or ``by_1700:imd_decile_1``)."""
        return self.label if self.base == "all" else f"{self.base}{QUALIFIER}{self.label}"

    @property
    def order(self) -> tuple[int, int]:
        """Sort key: deprivation first, deciles 1 → 10, then ethnic groups in the ONS order."""
        if self.dimension is Dimension.DEPRIVATION:
            return (0, int(self.key))
        return (1, list(ETHNIC_GROUPS).index(self.key))

    @property
    def title(self) -> str:
        """The cut in words (``Decile 1 (most deprived)``, ``White``)."""
        if self.dimension is Dimension.ETHNICITY:
            return ETHNIC_GROUPS[self.key]
        extreme = {"1": " (most deprived)", "10": " (least deprived)"}.get(self.key, "")
        return f"Decile {self.key}{extreme}"


def parse_label(label: str) -> Cut | None:
    """The equality cut a stored breakdown label names, or None when it names none.

    Args:
        label: a stored breakdown label (``imd_decile_3``, ``by_1700:ethnicity_white``, ``all``).

    Returns:
        The cut; None for a label of no equality dimension (``all``, ``1``, ``by_1700``).

    Raises:
        UsageError: the label looks like an equality label but breaks the convention (a decile
            outside 1–10, an unknown ethnic group, upper case, ``all:`` written out).
    """
    base, sep, last = label.rpartition(QUALIFIER)
    if not sep:
        base = "all"
    lowered = last.lower()
    if not lowered.startswith((IMD_PREFIX, ETHNICITY_PREFIX)):
        return None
    if last != lowered:
        raise UsageError(f"equality label {label!r} must be lower case ({lowered!r})")
    if sep and base in ("", "all"):
        raise UsageError(f"equality label {label!r}: write {last!r} for a cut of the whole")
    if last.startswith(IMD_PREFIX):
        key = last.removeprefix(IMD_PREFIX)
        if not key.isdigit() or str(int(key)) != key or int(key) not in DECILES:
            raise UsageError(
                f"equality label {label!r}: the IMD decile must be 1 to 10 "
                f"({IMD_PREFIX}1 = most deprived)"
            )
        return Cut(Dimension.DEPRIVATION, key, base)
    key = last.removeprefix(ETHNICITY_PREFIX)
    if key not in ETHNIC_GROUPS:
        raise UsageError(
            f"equality label {label!r}: the ethnic group must be one of "
            f"{', '.join(ETHNIC_GROUPS)} (ONS Census 2021 high-level groups)"
        )
    return Cut(Dimension.ETHNICITY, key, base)


def all_cuts(dimension: Dimension | None = None, base: str = "all") -> list[Cut]:
    """Every cut of the convention (of one dimension), in display order."""
    cuts = [Cut(Dimension.DEPRIVATION, str(d), base) for d in DECILES]
    cuts += [Cut(Dimension.ETHNICITY, g, base) for g in ETHNIC_GROUPS]
    return [c for c in cuts if dimension is None or c.dimension is dimension]


def cut_of(label: str) -> Cut:
    """The cut of an equality label known to be valid (as in a :data:`CUT_COLUMNS` frame)."""
    got = parse_label(label)
    if got is None:
        raise UsageError(f"{label!r} is not an equality label")
    return got


def ordered(labels: Iterable[str]) -> list[str]:
    """Equality labels in display order (deciles 1 → 10, then ethnic groups in the ONS order)."""
    return sorted(labels, key=lambda label: cut_of(label).order)


def is_count(defn: MetricDefinition) -> bool:
    """A count metric: its denominator is "1" (the registry writes "1" or "1 (a count)")."""
    return defn.denominator.strip().split(" ", 1)[0] == "1"


def labels_hint(base: str = "all") -> str:
    """The labels that enable equality cuts, in words, for a cut of ``base``."""
    qualified = "" if base == "all" else f"{base}{QUALIFIER}"
    groups = ", ".join(f"{qualified}{ETHNICITY_PREFIX}{g}" for g in ETHNIC_GROUPS)
    return (
        f"{qualified}{IMD_PREFIX}1 … {qualified}{IMD_PREFIX}10 (1 = most deprived) and/or {groups}"
    )


def enable_hint(metric: str, defn: MetricDefinition | None, code: str) -> str:
    """One line saying which stored series and labels would give a KPI equality cuts."""
    if defn is None:
        return (
            f"{metric}: not a registry metric with stored measures, so it cannot be cut by "
            "deprivation or ethnicity from stored series"
        )
    if defn.numerator_measure is None or (defn.denominator_measure is None and not is_count(defn)):
        side = "numerator" if defn.numerator_measure is None else "denominator"
        return (
            f"{defn.id}: the registry names no stored measure for its {side}, so it cannot be "
            "cut by deprivation or ethnicity from stored series"
        )
    num_base = defn.numerator_breakdown or "all"
    num = f"{defn.numerator_measure} [{num_base}]"
    den_base = defn.denominator_breakdown or "all"
    den = f"{defn.denominator_measure} [{den_base}]"
    if defn.denominator_measure is None:
        what, labels = num, labels_hint(num_base)
    elif den_base == num_base:
        what, labels = f"{num} and {den}", labels_hint(num_base)
    else:
        what = f"{num} and {den}"
        labels = f"{labels_hint(num_base)} for {num}, {labels_hint(den_base)} for {den}"
    qualified = "" if num_base == "all" else f"{num_base}{QUALIFIER}"
    return (
        f"{defn.id}: no equality cuts stored for {code} — load {what} as local extracts, one "
        f"per cut, with breakdown labels {labels} (e.g. `flowplan ingest table FILE --org CODE "
        f"--measure {defn.numerator_measure} --breakdown {qualified}{IMD_PREFIX}1 …`)"
    )


# --- per-cut sums --------------------------------------------------------------------------------


def sum_by_cut(values: pd.DataFrame, *, code: str, defn: MetricDefinition) -> pd.DataFrame:
    """A metric's value per equality cut and month, numerators and denominators summed first.

    Args:
        values: one row per organisation, month and cut: columns ``org``, ``period_start``,
            ``breakdown`` (an equality label, unqualified: ``imd_decile_1``), ``numerator`` and
            ``denominator`` (1 for a count metric).
        code: the organisation or footprint the sums stand for.
        defn: the metric (its rule turns the summed numerator and denominator into the value).

    Returns:
        Columns :data:`CUT_COLUMNS`, sorted by cut (display order) and month: for each cut the
        organisations storing it (``orgs``, comma separated; ``orgs_reporting`` of them), for
        months every one of them reports. ``value`` is NaN where the summed denominator is 0; a
        count metric's ``value`` is its summed numerator (``denominator`` 1).

    Raises:
        UsageError: missing columns, a label that is no equality label, repeated rows.
    """
    needed = ("org", "period_start", "breakdown", "numerator", "denominator")
    missing = [c for c in needed if c not in values.columns]
    if missing:
        raise UsageError(f"values needs columns {', '.join(needed)} (missing {', '.join(missing)})")
    parts: list[pd.DataFrame] = []
    for label in ordered(set(values["breakdown"].astype(str))):
        cut = cut_of(label)
        if cut.base != "all":
            raise UsageError(f"give the unqualified label {cut.label!r}, not {label!r}")
        part = values[values["breakdown"].astype(str) == label]
        orgs = sorted({str(o) for o in part["org"]})
        rolled = rollup(part, {code: orgs}, defn=defn, complete=True)
        if rolled.empty:
            continue
        if is_count(defn):
            rolled["denominator"] = 1.0
            rolled["value"] = [compute(defn, float(n), 1.0) for n in rolled["numerator"]]
        rolled["dimension"] = cut.dimension.value
        rolled["orgs"] = ", ".join(orgs)
        parts.append(rolled[list(CUT_COLUMNS)])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CUT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(np.float64)
    return out


# --- the deprivation gap -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeprivationGap:
    """The gap between the most and the least deprived decile in one month.

    Attributes:
        period: the month (its first day): the latest with at least two deciles.
        most: the most deprived decile with a value that month (1 when stored).
        least: the least deprived decile with a value that month (10 when stored).
        most_value: the KPI's value in ``most``.
        least_value: the KPI's value in ``least``.
        gap: ``most_value − least_value`` (metric units).
        text: the gap in words, with the numbers.
    """

    period: pd.Timestamp
    most: int
    least: int
    most_value: float
    least_value: float
    gap: float
    text: str


def _amount(value: float, unit: str) -> str:
    """``83.3 %``, ``12.0 minutes``; a count without a unit (``50.0``)."""
    if unit == "%":
        return f"{value:,.1f} %"
    return f"{value:,.1f}" if unit in ("", "count") else f"{value:,.1f} {unit}"


def deprivation_gap(frame: pd.DataFrame, *, direction: str, unit: str) -> DeprivationGap | None:
    """The gap between the most and least deprived deciles, stated in words.

    Args:
        frame: columns ``period_start``, ``breakdown`` and ``value`` (other labels are ignored).
        direction: the KPI's direction (``higher_is_better``, ``lower_is_better``, ``neutral``).
        unit: the KPI's unit (``%`` gives a gap in percentage points).

    Returns:
        The gap in the latest month in which at least two deciles have a value, between the
        lowest-numbered (most deprived) and the highest-numbered decile that month; None when no
        month has two.
    """
    rows: list[tuple[pd.Timestamp, int, float]] = []
    for start, label, value in zip(
        frame["period_start"], frame["breakdown"], frame["value"], strict=True
    ):
        cut = parse_label(str(label))
        if cut is None or cut.dimension is not Dimension.DEPRIVATION:
            continue
        if value is None or not math.isfinite(float(value)):
            continue
        rows.append((pd.Timestamp(start), int(cut.key), float(value)))
    by_month: dict[pd.Timestamp, dict[int, float]] = {}
    for start, decile, value in rows:
        by_month.setdefault(start, {})[decile] = value
    months = sorted(m for m, got in by_month.items() if len(got) >= 2)
    if not months:
        return None
    period = months[-1]
    got = by_month[period]
    most, least = min(got), max(got)
    gap = got[most] - got[least]
    size = f"{abs(gap):,.1f} percentage points" if unit == "%" else _amount(abs(gap), unit)
    most_words = "the most deprived decile" if most == 1 else "the most deprived decile with data"
    least_words = "the least deprived" if least == 10 else "the least deprived with data"
    text = (
        f"In {period:%b %Y} {most_words} ({most}) stood at {_amount(got[most], unit)} and "
        f"{least_words} ({least}) at {_amount(got[least], unit)}: "
    )
    if gap == 0:
        text += "no gap."
    elif direction == "neutral":
        text += f"a gap of {size} (decile {most} − decile {least} = {gap:+,.1f}; neither way is "
        text += "better for this KPI)."
    else:
        better_high = direction == "higher_is_better"
        worse = (gap < 0) == better_high
        who = "the most deprived" if worse else "the least deprived"
        way = "higher is better" if better_high else "lower is better"
        text += (
            f"a gap of {size} (decile {most} − decile {least} = {gap:+,.1f}), worse for {who} "
            f"({way})."
        )
    return DeprivationGap(
        period=period,
        most=most,
        least=least,
        most_value=got[most],
        least_value=got[least],
        gap=gap,
        text=text,
    )
