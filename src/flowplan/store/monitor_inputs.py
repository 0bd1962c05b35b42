"""Stored series shaped for the monitoring engines: plan KPI actuals and daily escalation inputs.

An organisation code or a footprint code may be given wherever a ``code`` is asked for. For a
footprint the members' **numerators and denominators are summed** before dividing (never the
mean of the members' rates; :func:`flowplan.monitor.rollup.rollup`), over the members that have
the series, and only for periods every one of those members reports (a month with a member
missing would otherwise dip). The ``basis`` lines say which members were used.

KPI actuals (:func:`plan_actuals`) are for the whole population. The published trust and STP
tables are not cut by deprivation or ethnicity, but a local extract can be: series stored under the
breakdown labels of :mod:`flowplan.monitor.equality` (``imd_decile_1`` … ``imd_decile_10``,
``ethnicity_<group>``) give a KPI per-cut actuals (:func:`plan_cut_actuals`), each cut's
numerator and denominator summed over the footprint's members before dividing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from flowplan.data.grain import Grain
from flowplan.data.measures import Aggregation, aggregation_of
from flowplan.errors import UsageError
from flowplan.metrics.compute import compute, compute_series
from flowplan.metrics.registry import MetricDefinition, get
from flowplan.monitor.equality import Cut, is_count, parse_label, sum_by_cut
from flowplan.monitor.kpis import KpiActuals
from flowplan.monitor.opel import Indicator, OpelConfig, SeriesRef, load_config
from flowplan.monitor.rollup import rollup
from flowplan.plans.model import Plan
from flowplan.store.inputs import metric_inputs
from flowplan.store.store import Store


def members_of(store: Store, code: str) -> list[str] | None:
    """The member organisations of footprint ``code``, or None when ``code`` is no footprint."""
    for fp in store.footprints():
        if fp["code"] == code:
            return [str(m) for m in fp["members"]]
    return None


# --- Plan KPI actuals ---------------------------------------------------------------------------


def _org_metric(store: Store, org: str, defn: MetricDefinition) -> pd.DataFrame:
    """Monthly numerator and denominator of ``defn`` for one organisation (UsageError if absent)."""
    if defn.numerator_measure is None:
        raise UsageError(f"{defn.id} has no stored numerator measure")
    if defn.denominator_measure is None:
        num, _, _ = store.read_series(
            org, defn.numerator_measure, defn.numerator_breakdown, Grain.MONTH
        )
        return pd.DataFrame(
            {"period_start": num["period_start"], "numerator": num["value"], "denominator": 1.0}
        )
    got = metric_inputs(
        store,
        org,
        defn.numerator_measure,
        defn.denominator_measure,
        numerator_breakdown=defn.numerator_breakdown,
        denominator_breakdown=defn.denominator_breakdown,
        grain=Grain.MONTH,
    )
    return got.numerator.rename(columns={"value": "numerator"}).merge(
        got.denominator.rename(columns={"value": "denominator"}), on="period_start", how="inner"
    )


def metric_actuals(store: Store, code: str, defn: MetricDefinition) -> KpiActuals:
    """A registry metric's monthly values for an organisation or a footprint.

    Args:
        store: the store.
        code: organisation or footprint code.
        defn: the metric; it must name a stored numerator measure (and a denominator measure,
            or a denominator of "1" for counts).

    Returns:
        The actuals (``frame`` None, with a ``note``, when the store has no data).
    """
    if defn.numerator_measure is None or (defn.denominator_measure is None and not is_count(defn)):
        return KpiActuals(None, note=f"{defn.id}: no stored measures (enter actuals locally)")
    members = members_of(store, code)
    if members is None:
        try:
            parts = _org_metric(store, code, defn)
        except UsageError as exc:
            return KpiActuals(None, note=f"{code}: {exc}")
        frame = compute_series(
            defn,
            parts[["period_start", "numerator"]].rename(columns={"numerator": "value"}),
            parts[["period_start", "denominator"]].rename(columns={"denominator": "value"}),
        )
        return KpiActuals(
            frame[["period_start", "value"]],
            source=f"{code} {defn.numerator_measure} ÷ {defn.denominator_measure or '1'} by month",
        )
    pieces = []
    for org in members:
        try:
            pieces.append(_org_metric(store, org, defn).assign(org=org))
        except UsageError:
            continue
    if not pieces:
        return KpiActuals(
            None, note=f"{code}: no member stores {defn.numerator_measure} for {defn.id}"
        )
    values = pd.concat(pieces, ignore_index=True)
    reporting = sorted(values["org"].unique())
    rolled = rollup(values, {code: reporting}, defn=defn, complete=True)
    if is_count(defn):
        # a count's denominator is 1 per member: the footprint's count is the summed numerator,
        # not the summed numerator ÷ the number of members
        rolled["value"] = [compute(defn, float(n), 1.0) for n in rolled["numerator"]]
    rolled = rolled.dropna(subset=["value"])
    if rolled.empty:
        return KpiActuals(None, note=f"{code}: members {', '.join(reporting)} share no month")
    absent = [m for m in members if m not in reporting]
    source = (
        f"{code}: sum of {len(reporting)} member(s) ({', '.join(reporting)}) "
        f"{defn.numerator_measure} ÷ {defn.denominator_measure or '1'} by month"
    )
    if absent:
        source += f"; without data: {', '.join(absent)}"
    return KpiActuals(rolled[["period_start", "value"]].reset_index(drop=True), source=source)


def plan_actuals(
    store: Store, plan: Plan, *, code: str | None = None
) -> dict[tuple[str, int], KpiActuals]:
    """Monthly actuals of every KPI of a plan, from stored series.

    Args:
        store: the store.
        plan: the plan.
        code: organisation or footprint to read (default: the plan's footprint, summed over its
            members when the store defines it, else read as an organisation code).

    Returns:
        (scheme id, KPI index) → actuals, for every KPI (None frames with a note where the
        metric is custom, unknown, has no stored measures or no data).
    """
    where = code or plan.footprint
    cache: dict[str, KpiActuals] = {}
    out: dict[tuple[str, int], KpiActuals] = {}
    for scheme in plan.schemes:
        for index, kpi in enumerate(scheme.kpis):
            if kpi.metric not in cache:
                try:
                    defn = get(kpi.metric) if kpi.metric != "custom" else None
                except UsageError:
                    defn = None
                if defn is None:
                    cache[kpi.metric] = KpiActuals(
                        None, note=f"{kpi.metric}: not a registry metric with stored measures"
                    )
                else:
                    cache[kpi.metric] = metric_actuals(store, where, defn)
            out[(scheme.id, index)] = cache[kpi.metric]
    return out


# --- Plan KPI actuals by equality cut -------------------------------------------------------------


@dataclass(frozen=True)
class CutActuals:
    """Monthly actuals of a KPI's metric for each equality cut (deprivation decile, ethnic group).

    Attributes:
        frame: columns :data:`flowplan.monitor.equality.CUT_COLUMNS` (``breakdown`` is the
            unqualified equality label, ``imd_decile_1``), one row per cut and month.
        basis: how the values were read and summed, in one line.
        count: the metric is a count (``denominator`` is 1, not a stored measure).
        ignored: stored labels that look like equality labels but break the convention, or could
            not be read by month, with the reason.
    """

    frame: pd.DataFrame
    basis: str
    count: bool = False
    ignored: list[str] = field(default_factory=list)


def _stored_cuts(
    store: Store, measure: str, base: str, orgs: list[str], ignored: list[str]
) -> dict[str, dict[str, Cut]]:
    """org → equality label → cut, for the cuts of ``base`` stored for ``measure``."""
    found: dict[str, dict[str, Cut]] = {}
    stored = (info for org in orgs for info in store.series_list(org=org, measure=measure))
    for info in stored:
        try:
            cut = parse_label(info.breakdown)
        except UsageError as exc:
            note = f"{info.org_code} {measure} [{info.breakdown}]: {exc}"
            if note not in ignored:
                ignored.append(note)
            continue
        if cut is not None and cut.base == base:
            found.setdefault(info.org_code, {})[cut.label] = cut
    return found


def _cut_parts(
    store: Store, org: str, defn: MetricDefinition, num: Cut, den: Cut | None
) -> pd.DataFrame:
    """Monthly numerator and denominator of one cut for one organisation."""
    assert defn.numerator_measure is not None
    got, _, _ = store.read_series(org, defn.numerator_measure, num.stored, Grain.MONTH)
    parts = pd.DataFrame({"period_start": got["period_start"], "numerator": got["value"]})
    if den is None or defn.denominator_measure is None:
        return parts.assign(denominator=1.0)
    below, _, _ = store.read_series(org, defn.denominator_measure, den.stored, Grain.MONTH)
    return parts.merge(
        pd.DataFrame({"period_start": below["period_start"], "denominator": below["value"]}),
        on="period_start",
        how="inner",
    )


def metric_cut_actuals(store: Store, code: str, defn: MetricDefinition) -> CutActuals | None:
    """A registry metric's monthly values per equality cut for an organisation or a footprint.

    A cut is used where its numerator series (and, for a ratio, its denominator series) is stored
    under the same equality label (:mod:`flowplan.monitor.equality`): ``imd_decile_3`` of
    ``ae_breaches_4h`` with ``imd_decile_3`` of ``ae_attendances``. For a footprint each cut's
    numerators and denominators are summed over the members storing it, for the months every one
    of them reports, then divided (:func:`flowplan.monitor.equality.sum_by_cut`).

    Args:
        store: the store.
        code: organisation or footprint code.
        defn: the metric.

    Returns:
        The per-cut actuals; None when the metric has no stored measures or no cut is stored.
    """
    if defn.numerator_measure is None or (defn.denominator_measure is None and not is_count(defn)):
        return None
    members = members_of(store, code)
    orgs = members if members is not None else [code]
    num_base = defn.numerator_breakdown or "all"
    den_base = defn.denominator_breakdown or "all"
    ignored: list[str] = []
    num_cuts = _stored_cuts(store, defn.numerator_measure, num_base, orgs, ignored)
    den_cuts = (
        _stored_cuts(store, defn.denominator_measure, den_base, orgs, ignored)
        if defn.denominator_measure is not None
        else None
    )
    pieces: list[pd.DataFrame] = []
    for org in orgs:
        for label, cut in num_cuts.get(org, {}).items():
            den = None if den_cuts is None else den_cuts.get(org, {}).get(label)
            if den_cuts is not None and den is None:
                ignored.append(
                    f"{org} {defn.numerator_measure} [{cut.stored}]: no "
                    f"{defn.denominator_measure} [{Cut(cut.dimension, cut.key, den_base).stored}] "
                    "to divide by"
                )
                continue
            try:
                parts = _cut_parts(store, org, defn, cut, den)
            except UsageError as exc:
                ignored.append(f"{org} [{cut.stored}]: {exc}")
                continue
            pieces.append(parts.assign(org=org, breakdown=label))
    if not pieces:
        return None
    values = pd.concat(pieces, ignore_index=True)
    frame = sum_by_cut(values, code=code, defn=defn).dropna(subset=["value"])
    if frame.empty:
        return None
    frame = frame.reset_index(drop=True)
    reporting = sorted(values["org"].unique())
    ratio = (
        f"{defn.numerator_measure} [{num_base}]"
        if defn.denominator_measure is None
        else f"{defn.numerator_measure} [{num_base}] ÷ {defn.denominator_measure} [{den_base}]"
    )
    kinds = []
    for dimension, words in (("deprivation", "IMD decile(s)"), ("ethnicity", "ethnic group(s)")):
        count = frame.loc[frame["dimension"] == dimension, "breakdown"].nunique()
        if count:
            kinds.append(f"{count} {words}")
    summed = "counts" if is_count(defn) else "numerators and denominators"
    if members is None:
        basis = f"{code}: {ratio} per cut by month; {' and '.join(kinds)}"
    else:
        absent = [m for m in members if m not in reporting]
        basis = (
            f"{code}: {ratio} per cut by month, {summed} summed over "
            f"{len(reporting)} member(s) ({', '.join(reporting)}) before dividing, for months "
            f"every member storing the cut reports; {' and '.join(kinds)}"
        )
        if absent:
            basis += f"; no cuts stored by {', '.join(absent)}"
    return CutActuals(frame=frame, basis=basis, count=is_count(defn), ignored=ignored)


def plan_cut_actuals(
    store: Store, plan: Plan, *, code: str | None = None
) -> dict[tuple[str, int], CutActuals]:
    """Per-cut monthly actuals of the KPIs of a plan whose metrics have stored equality cuts.

    Args:
        store: the store.
        plan: the plan.
        code: organisation or footprint to read (default: the plan's footprint, as
            :func:`plan_actuals`).

    Returns:
        (scheme id, KPI index) → per-cut actuals, only for KPIs with cuts (nothing for the
        others: custom or unknown metrics, metrics without stored measures or without cuts).
    """
    where = code or plan.footprint
    cache: dict[str, CutActuals | None] = {}
    out: dict[tuple[str, int], CutActuals] = {}
    for scheme in plan.schemes:
        for index, kpi in enumerate(scheme.kpis):
            if kpi.metric not in cache:
                try:
                    defn = get(kpi.metric) if kpi.metric != "custom" else None
                except UsageError:
                    defn = None
                cache[kpi.metric] = None if defn is None else metric_cut_actuals(store, where, defn)
            got = cache[kpi.metric]
            if got is not None:
                out[(scheme.id, index)] = got
    return out


# --- Escalation indicators ----------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationInputs:
    """Daily indicator values of an organisation or footprint.

    Attributes:
        code: organisation or footprint code.
        frame: columns ``date``, ``indicator``, ``value`` (the input of
            :func:`flowplan.monitor.opel.opel_levels`).
        orgs: organisations whose series were read.
        basis: how each indicator was derived; indicators without data are named.
    """

    code: str
    frame: pd.DataFrame
    orgs: list[str]
    basis: list[str] = field(default_factory=list)


def _daily(store: Store, org: str, ref: SeriesRef) -> tuple[pd.DataFrame, Grain]:
    """A stored series as one value per day (see the module docstring of monitor.opel).

    Daily (or finer, re-aggregated to days) series are used as they are. A coarser period's
    value applies to each of its days: a flow as its daily average (value ÷ days), a stock as is.
    """
    frame, grain, _ = store.read_series(org, ref.measure, ref.breakdown)
    if grain.rank < Grain.DAY.rank:
        frame, grain, _ = store.read_series(org, ref.measure, ref.breakdown, Grain.DAY)
    if grain is Grain.DAY:
        return pd.DataFrame({"date": frame["period_start"], "value": frame["value"]}), grain
    flow = aggregation_of(ref.measure) is Aggregation.SUM
    rows_date: list[pd.Timestamp] = []
    rows_value: list[float] = []
    offsets = {
        Grain.WEEK: pd.DateOffset(weeks=1),
        Grain.MONTH: pd.DateOffset(months=1),
        Grain.QUARTER: pd.DateOffset(months=3),
    }
    for start, value in zip(frame["period_start"], frame["value"], strict=True):
        first = pd.Timestamp(start)
        days = pd.date_range(first, first + offsets[grain] - pd.Timedelta(days=1), freq="D")
        daily = float(value) / len(days) if flow else float(value)
        rows_date.extend(days)
        rows_value.extend([daily] * len(days))
    return pd.DataFrame({"date": rows_date, "value": rows_value}), grain


def _indicator_parts(
    store: Store, org: str, ind: Indicator
) -> tuple[pd.DataFrame, list[Grain]] | None:
    """Daily numerator and denominator of one indicator for one org (None when not stored)."""
    if ind.numerator is None:
        return None
    try:
        num, num_grain = _daily(store, org, ind.numerator)
        grains = [num_grain]
        if ind.denominator is None:
            parts = num.rename(columns={"value": "numerator"}).assign(denominator=1.0)
        else:
            den, den_grain = _daily(store, org, ind.denominator)
            grains.append(den_grain)
            parts = num.rename(columns={"value": "numerator"}).merge(
                den.rename(columns={"value": "denominator"}), on="date", how="inner"
            )
    except UsageError:
        return None
    return parts.assign(org=org), grains


def escalation_indicators(
    store: Store,
    code: str,
    *,
    config: OpelConfig | None = None,
    start: date | None = None,
    end: date | None = None,
) -> EscalationInputs:
    """Daily values of every configured escalation indicator for an organisation or footprint.

    Args:
        store: the store.
        code: organisation code, or footprint code (members' numerators and denominators summed
            per day, over the members with the indicator's series, on days all of them report).
        config: the escalation scheme (default: the packaged ``opel.toml``).
        start: first day (inclusive).
        end: last day (inclusive).

    Returns:
        The indicator frame (value = numerator ÷ denominator × scale; days with a zero
        denominator are left out) and its basis.

    Raises:
        UsageError: ``code`` is neither a footprint nor an organisation with any indicator's
            series.
    """
    cfg = config if config is not None else load_config()
    members = members_of(store, code)
    orgs = members if members is not None else [code]
    frames: list[pd.DataFrame] = []
    basis: list[str] = []
    used: set[str] = set()
    for ind in cfg.indicators:
        pieces = []
        grains: set[Grain] = set()
        for org in orgs:
            got = _indicator_parts(store, org, ind)
            if got is not None:
                pieces.append(got[0])
                grains.update(got[1])
        if not pieces:
            basis.append(f"{ind.id}: no data ({_refs(ind)} not stored for {code})")
            continue
        values = pd.concat(pieces, ignore_index=True).rename(columns={"date": "period_start"})
        reporting = sorted(values["org"].unique())
        used.update(reporting)
        rolled = rollup(values, {code: reporting}, scale=ind.scale, complete=True)
        rolled = rolled.dropna(subset=["value"])
        if start is not None:
            rolled = rolled[rolled["period_start"] >= pd.Timestamp(start)]
        if end is not None:
            rolled = rolled[rolled["period_start"] <= pd.Timestamp(end)]
        frames.append(
            pd.DataFrame(
                {"date": rolled["period_start"], "indicator": ind.id, "value": rolled["value"]}
            )
        )
        spread = sorted(g.value for g in grains if g is not Grain.DAY)
        note = (
            f"; {', '.join(spread)} values apply to each of their days (flows as daily averages)"
            if spread
            else ""
        )
        who = code if members is None else f"{code} (sum of {', '.join(reporting)})"
        basis.append(f"{ind.id}: {who} {_refs(ind)} × {ind.scale:g}{note}")
    if not frames and members is None and not store.series_list(org=code):
        raise UsageError(
            f"no stored series for {code!r} (neither a footprint nor an organisation with data)"
        )
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"date": [], "indicator": [], "value": []})
    )
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["value"] = frame["value"].astype(np.float64)
    frame = frame.sort_values(["date", "indicator"]).reset_index(drop=True)
    return EscalationInputs(code=code, frame=frame, orgs=sorted(used), basis=basis)


def _refs(ind: Indicator) -> str:
    def one(ref: SeriesRef | None) -> str:
        return "1" if ref is None else f"{ref.measure}[{ref.breakdown}]"

    return f"{one(ind.numerator)} ÷ {one(ind.denominator)}"
