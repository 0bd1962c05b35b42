"""A footprint's monthly system-level A&E 4-hour and RTT 18-week values, for assurance.

The assurance rule (:mod:`flowplan.assurance.category`) never opens the store; this adapter does.
A system's figure is its organisations' counts added up, then the metric computed once from the
sums (never an average of percentages), with the metric registry's definition
(:func:`flowplan.metrics.compute.compute_series`) and the same stored series ``flowplan metric
series`` reads (:func:`flowplan.store.inputs.metric_inputs`):

* **A&E 4-hour** (``constitution.ae_4h``): for the footprint's sites (members that are not areas
  such as an STP or ICB, whose A&E would count their trusts' attendances again) that store the
  metric's series, 100 × (1 − Σ breaches ÷ Σ attendances), all A&E types. A month counts only
  when every such site reports it; otherwise it is a gap, naming who did not report.
* **RTT incomplete within 18 weeks** (``constitution.rtt_incomplete_18w``): Σ pathways waiting 18
  weeks or less ÷ Σ incomplete pathways × 100. Published RTT flows are by STP, so the footprint's
  area members (STP/ICB) that store a waiting list are used; only when none does are its sites
  added up (never both: the area already holds its trusts' pathways). Where the within-18-weeks
  count is not stored it is the waiting list − pathways over 18 weeks (breakdown ``all``, else
  ``Total``), said in ``basis``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from flowplan.assurance.category import MonthlySeries, SystemHistory
from flowplan.data.grain import Grain
from flowplan.errors import UsageError
from flowplan.metrics import compute as compute_engine
from flowplan.metrics.registry import MetricDefinition, get
from flowplan.store.inputs import metric_inputs
from flowplan.store.review_inputs import AREA_TYPES
from flowplan.store.store import Store

__all__ = [
    "AE_METRIC",
    "OVER_18W_MEASURE",
    "RTT_METRIC",
    "AssuranceInputs",
    "assurance_inputs",
]

AE_METRIC = "constitution.ae_4h"
RTT_METRIC = "constitution.rtt_incomplete_18w"
OVER_18W_MEASURE = "rtt_waiting_over_18w"
_OVER_18W_BREAKDOWNS = ("all", "Total")


@dataclass(frozen=True)
class AssuranceInputs:
    """A footprint's system-level monthly history, and the sums it rests on.

    Attributes:
        footprint: footprint code.
        members: the footprint's members.
        history: the values the assurance rule reads (metric id → monthly series).
        frames: metric id → columns period_start, numerator, denominator, value, orgs: the
            summed counts of each complete month and the organisations added up.
        basis: how each figure was derived.
    """

    footprint: str
    members: list[str]
    history: SystemHistory
    frames: dict[str, pd.DataFrame]
    basis: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _OrgCounts:
    org: str
    numerator: pd.Series
    denominator: pd.Series
    basis: list[str]


def _indexed(frame: pd.DataFrame) -> pd.Series:
    out = frame.set_index(pd.to_datetime(frame["period_start"]))["value"].astype(float)
    return out.dropna()


def _ae_counts(store: Store, org: str, defn: MetricDefinition) -> _OrgCounts | None:
    assert defn.numerator_measure and defn.denominator_measure
    try:
        got = metric_inputs(
            store,
            org,
            defn.numerator_measure,
            defn.denominator_measure,
            numerator_breakdown=defn.numerator_breakdown,
            denominator_breakdown=defn.denominator_breakdown,
            grain=Grain.MONTH,
        )
    except UsageError:
        return None
    return _OrgCounts(org, _indexed(got.numerator), _indexed(got.denominator), got.basis)


def _breakdowns(store: Store, org: str, measure: str) -> set[str]:
    return {s.breakdown for s in store.series_list(org, measure)}


def _rtt_counts(store: Store, org: str, defn: MetricDefinition) -> _OrgCounts | None:
    """Within-18-week and incomplete pathways of ``org``; None when no waiting list is stored."""
    assert defn.numerator_measure and defn.denominator_measure
    den_bd = defn.denominator_breakdown or "all"
    if den_bd not in _breakdowns(store, org, defn.denominator_measure):
        return None
    num_bd = defn.numerator_breakdown or "all"
    if num_bd in _breakdowns(store, org, defn.numerator_measure):
        got = metric_inputs(
            store,
            org,
            defn.numerator_measure,
            defn.denominator_measure,
            numerator_breakdown=num_bd,
            denominator_breakdown=den_bd,
            grain=Grain.MONTH,
        )
        return _OrgCounts(org, _indexed(got.numerator), _indexed(got.denominator), got.basis)
    stored = _breakdowns(store, org, OVER_18W_MEASURE)
    over_bd = next((b for b in _OVER_18W_BREAKDOWNS if b in stored), None)
    if over_bd is None:
        return None
    got = metric_inputs(
        store,
        org,
        OVER_18W_MEASURE,
        defn.denominator_measure,
        numerator_breakdown=over_bd,
        denominator_breakdown=den_bd,
        grain=Grain.MONTH,
    )
    over, waiting = _indexed(got.numerator), _indexed(got.denominator)
    common = waiting.index.intersection(over.index)
    within = waiting[common] - over[common]
    basis = [
        f"numerator: {org} {defn.denominator_measure} [{den_bd}] − {OVER_18W_MEASURE} "
        f"[{over_bd}] by month ({defn.numerator_measure} not stored)",
        got.basis[1],
    ]
    return _OrgCounts(org, within, waiting[common], basis)


def _combine(
    defn: MetricDefinition, counts: list[_OrgCounts]
) -> tuple[pd.DataFrame, dict[date, str]]:
    """Sum the counts of months every organisation reports; the other months are gaps."""
    orgs = [c.org for c in counts]
    num = pd.DataFrame({c.org: c.numerator for c in counts})
    den = pd.DataFrame({c.org: c.denominator for c in counts})
    months = num.index.union(den.index).sort_values()
    num, den = num.reindex(months), den.reindex(months)
    reported = num.notna() & den.notna()
    complete = reported.all(axis=1)
    gaps: dict[date, str] = {}
    for month in months[~complete.to_numpy()]:
        absent = [o for o in orgs if not reported.at[month, o]]
        gaps[pd.Timestamp(month).date()] = f"{', '.join(absent)} not reported"
    kept = months[complete.to_numpy()]
    numerator = pd.DataFrame({"period_start": kept, "value": num.loc[kept].sum(axis=1).to_numpy()})
    denominator = pd.DataFrame(
        {"period_start": kept, "value": den.loc[kept].sum(axis=1).to_numpy()}
    )
    frame = compute_engine.compute_series(defn, numerator, denominator)
    frame["orgs"] = ", ".join(orgs)
    return frame, gaps


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period_start": pd.Series(dtype="datetime64[ns]"),
            "numerator": pd.Series(dtype=float),
            "denominator": pd.Series(dtype=float),
            "value": pd.Series(dtype=float),
            "orgs": pd.Series(dtype=object),
        }
    )


def _series(
    defn: MetricDefinition, counts: list[_OrgCounts], basis: list[str]
) -> tuple[MonthlySeries, pd.DataFrame]:
    if not counts:
        return MonthlySeries(defn.id, {}, {}, basis), _empty_frame()
    frame, gaps = _combine(defn, counts)
    values = {
        pd.Timestamp(p).date(): float(v)
        for p, v in zip(frame["period_start"], frame["value"], strict=True)
    }
    for c in counts:
        basis.extend(c.basis)
    if values:
        first, last = min(values), max(values)
        basis.append(
            f"{defn.id}: {len(values)} complete months {first:%b %Y}–{last:%b %Y}"
            + (f", {len(gaps)} incomplete left out" if gaps else "")
        )
    return MonthlySeries(defn.id, values, gaps, basis), frame


def assurance_inputs(store: Store, footprint: str) -> AssuranceInputs:
    """The monthly system-level A&E 4-hour and RTT 18-week values of ``footprint``.

    Args:
        store: the store to read.
        footprint: footprint code (``flowplan orgs footprint list``).

    Returns:
        The history for :func:`flowplan.assurance.category.classify`, the summed counts behind
        it and the basis. A metric none of the members stores has no values (and says so in its
        basis).

    Raises:
        UsageError: unknown footprint.
    """
    found = {f["code"]: f for f in store.footprints()}
    if footprint not in found:
        known = ", ".join(found) or "none stored"
        raise UsageError(
            f"unknown footprint {footprint!r} (footprints: {known}; "
            "see `flowplan orgs footprint list`)"
        )
    members: list[str] = list(found[footprint]["members"])
    kinds = {m: str(store.organisation(m)["type"]) for m in members}
    areas = [m for m in members if kinds[m] in AREA_TYPES]
    sites = [m for m in members if kinds[m] not in AREA_TYPES]
    basis = [f"footprint {footprint}: members {', '.join(f'{m} ({kinds[m]})' for m in members)}"]

    ae = get(AE_METRIC)
    ae_basis: list[str] = []
    ae_counts = []
    for site in sites:
        got = _ae_counts(store, site, ae)
        if got is None:
            ae_basis.append(
                f"{AE_METRIC}: {site} stores no {ae.numerator_measure} and "
                f"{ae.denominator_measure} [{ae.numerator_breakdown}]; not added"
            )
        else:
            ae_counts.append(got)
    if areas:
        ae_basis.append(
            f"{AE_METRIC}: {', '.join(areas)} left out — areas, whose A&E would count their "
            "trusts' attendances again"
        )
    ae_basis.append(
        f"{AE_METRIC}: system value = 100 × (1 − Σ breaches ÷ Σ attendances) over "
        f"{', '.join(c.org for c in ae_counts) or 'no site'}; a month counts only when every one "
        "of them reports it"
    )
    ae_series, ae_frame = _series(ae, ae_counts, ae_basis)

    rtt = get(RTT_METRIC)
    rtt_basis: list[str] = []
    area_counts = [c for c in (_rtt_counts(store, a, rtt) for a in areas) if c is not None]
    if area_counts:
        rtt_counts = area_counts
        rtt_basis.append(
            f"{RTT_METRIC}: from the area member(s) {', '.join(c.org for c in area_counts)} "
            "(RTT is published by STP, by where patients are commissioned, which may reach "
            "beyond the footprint's trusts); sites not added again"
        )
    else:
        rtt_counts = [c for c in (_rtt_counts(store, s, rtt) for s in sites) if c is not None]
        rtt_basis.append(
            f"{RTT_METRIC}: no area member stores a waiting list; from the sites "
            f"{', '.join(c.org for c in rtt_counts) or '(none store one)'}"
        )
    rtt_basis.append(
        f"{RTT_METRIC}: system value = 100 × Σ pathways waiting 18 weeks or less ÷ Σ incomplete "
        "pathways; a month counts only when every organisation added reports it"
    )
    rtt_series, rtt_frame = _series(rtt, rtt_counts, rtt_basis)

    history = SystemHistory(
        system=footprint,
        series={AE_METRIC: ae_series, RTT_METRIC: rtt_series},
        basis=basis,
    )
    return AssuranceInputs(
        footprint=footprint,
        members=members,
        history=history,
        frames={AE_METRIC: ae_frame, RTT_METRIC: rtt_frame},
        basis=[*basis, *ae_series.basis, *rtt_series.basis],
    )
