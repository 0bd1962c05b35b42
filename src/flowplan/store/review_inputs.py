"""Stored series shaped into the inputs of the review of drivers of pressure.

The review engine (:mod:`flowplan.demand.review`) never opens the store; this adapter does. It
reads every series the six questions of the review rest on (shared/docs/DOMAIN.md §4; NHS England,
*Operational resilience and capacity planning for 2014/15*, "Independent analytical review"),
names the series it could not find (``missing``), so the review can say which questions it could
not answer, and says where each number came from (``basis``).

Every frame is plain: single series have columns ``period_start`` (naive timestamp at the start of
the period) and ``value``; series with a breakdown add a key column (``type``, ``reason`` or
``org``). Monthly series are read by month, daily ones by day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import select

from flowplan.data.grain import Grain
from flowplan.errors import UsageError
from flowplan.store.models import Load, Observation, Series
from flowplan.store.store import Store

__all__ = [
    "AREA_TYPES",
    "ReviewInputs",
    "keyed_frame",
    "review_inputs",
    "series_frame",
]

AREA_TYPES = frozenset({"icb", "stp", "ccg", "region", "country"})
"""Organisation types that are areas rather than sites: their A&E series add up their trusts', so
they are left out of footprint shares (they would count the same attendances twice)."""


def series_frame() -> pd.DataFrame:
    """An empty single-series frame (``period_start``, ``value``)."""
    return pd.DataFrame(
        {
            "period_start": pd.Series(dtype="datetime64[ns]"),
            "value": pd.Series(dtype=float),
        }
    )


def keyed_frame(key: str) -> pd.DataFrame:
    """An empty frame of several series told apart by ``key`` (``period_start``, key, ``value``)."""
    return pd.DataFrame(
        {
            "period_start": pd.Series(dtype="datetime64[ns]"),
            key: pd.Series(dtype=object),
            "value": pd.Series(dtype=float),
        }
    )


def _types_frame() -> pd.DataFrame:
    return keyed_frame("type")


def _reasons_frame() -> pd.DataFrame:
    return keyed_frame("reason")


def _orgs_frame() -> pd.DataFrame:
    return keyed_frame("org")


@dataclass(frozen=True)
class ReviewInputs:
    """Everything the review of drivers of pressure reads, for one organisation and window.

    An empty frame means the series is not stored (or has no period in the window); ``missing``
    says which.

    Attributes:
        org: organisation code reviewed.
        org_name: its name where stored.
        footprint: code of the footprint compared across (None: no redistribution between sites).
        footprint_members: the footprint's member sites used for shares (areas left out).
        start: first day of the window asked for (None: from the first stored period).
        end: last day of the window asked for (None: to the last stored period).
        attendances: monthly A&E attendances, all types.
        attendances_by_type: monthly A&E attendances by A&E type (column ``type``: 1, 2, other).
        admissions: monthly emergency admissions, all.
        dta_over_4h: monthly patients waiting over 4 hours from decision to admit.
        breaches: monthly attendances over 4 hours in A&E.
        beds_available: monthly mean G&A beds available (all).
        beds_occupied: monthly mean G&A beds occupied (all).
        daily_attendances: daily A&E attendances where a local extract stores them by day.
        discharges: daily discharges (all).
        discharges_by_1700: daily discharges by 17:00 (published to May 2023 only).
        criteria_to_reside: daily patients not meeting the criteria to reside.
        delayed_discharges: monthly delayed-discharge patients by published reason (column
            ``reason``).
        footprint_attendances: monthly A&E attendances (all) of every footprint member (``org``).
        footprint_admissions: monthly emergency admissions (all) of every footprint member.
        missing: series not stored (or with nothing in the window), one line each.
        basis: where each series came from and what was read.
    """

    org: str
    org_name: str | None = None
    footprint: str | None = None
    footprint_members: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    attendances: pd.DataFrame = field(default_factory=series_frame)
    attendances_by_type: pd.DataFrame = field(default_factory=_types_frame)
    admissions: pd.DataFrame = field(default_factory=series_frame)
    dta_over_4h: pd.DataFrame = field(default_factory=series_frame)
    breaches: pd.DataFrame = field(default_factory=series_frame)
    beds_available: pd.DataFrame = field(default_factory=series_frame)
    beds_occupied: pd.DataFrame = field(default_factory=series_frame)
    daily_attendances: pd.DataFrame = field(default_factory=series_frame)
    discharges: pd.DataFrame = field(default_factory=series_frame)
    discharges_by_1700: pd.DataFrame = field(default_factory=series_frame)
    criteria_to_reside: pd.DataFrame = field(default_factory=series_frame)
    delayed_discharges: pd.DataFrame = field(default_factory=_reasons_frame)
    footprint_attendances: pd.DataFrame = field(default_factory=_orgs_frame)
    footprint_admissions: pd.DataFrame = field(default_factory=_orgs_frame)
    missing: list[str] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)


class _Reader:
    """Reads series for one window, recording what is missing and what was read."""

    def __init__(self, store: Store, start: date | None, end: date | None) -> None:
        self.store = store
        self.start = start
        self.end = end
        self.missing: list[str] = []
        self.basis: list[str] = []

    def read(
        self,
        org: str,
        measure: str,
        breakdown: str,
        grain: Grain,
        *,
        required: bool = True,
        note: bool = True,
    ) -> pd.DataFrame:
        """One series in the window, or an empty frame.

        Args:
            org: organisation code.
            measure: canonical measure.
            breakdown: breakdown label.
            grain: grain to read at.
            required: note an absent series in ``missing``.
            note: note the series read in ``basis``.
        """
        label = f"{org} {measure} [{breakdown}]"
        start = self.start
        if start is not None and grain is Grain.MONTH:
            start = start.replace(day=1)  # a window from mid-month keeps that month
        try:
            frame, _, _ = self.store.read_series(org, measure, breakdown, grain, start, self.end)
        except UsageError:
            if required:
                self.missing.append(f"{label}: not stored")
            return series_frame()
        frame = frame[["period_start", "value"]].dropna().reset_index(drop=True)
        if frame.empty:
            if required:
                self.missing.append(f"{label}: nothing stored in the window")
            return series_frame()
        if note:
            self.basis.append(f"{label} by {grain.value}: {_span(frame, grain)}")
        return frame

    def breakdowns(self, org: str, measure: str) -> list[str]:
        """Breakdowns of a measure stored for an organisation."""
        return sorted({s.breakdown for s in self.store.series_list(org, measure)})


def _span(frame: pd.DataFrame, grain: Grain) -> str:
    first = pd.Timestamp(frame["period_start"].min())
    last = pd.Timestamp(frame["period_start"].max())
    if grain is Grain.MONTH:
        return f"{first:%b %Y}–{last:%b %Y} ({len(frame)} months)"
    return f"{first:%d %b %Y}–{last:%d %b %Y} ({len(frame)} {grain.value}s)"


def _keyed(parts: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
    frames = [f.assign(**{key: name}) for name, f in parts.items() if not f.empty]
    if not frames:
        return keyed_frame(key)
    out = pd.concat(frames, ignore_index=True)[["period_start", key, "value"]]
    return out.sort_values(["period_start", key]).reset_index(drop=True)


def _sum_of_types(by_type: pd.DataFrame) -> pd.DataFrame:
    total = by_type.groupby("period_start")["value"].sum()
    return pd.DataFrame({"period_start": total.index, "value": total.to_numpy(dtype=float)})


def _sources(store: Store, orgs: list[str], start: date | None, end: date | None) -> list[str]:
    """The formats and published sources of the loads behind the review's series."""
    measures = (
        "ae_attendances",
        "emergency_admissions",
        "ae_dta_over_4h",
        "ae_breaches_4h",
        "ga_beds_available",
        "ga_beds_occupied",
        "discharges",
        "not_meeting_criteria_to_reside",
        "delayed_discharges",
    )
    query = (
        select(Load.format, Load.source, Load.file_name)
        .distinct()
        .select_from(Observation)
        .join(Series, Series.id == Observation.series_id)
        .join(Load, Load.id == Observation.load_id)
        .where(Series.org_code.in_(orgs), Series.measure.in_(measures))
        .order_by(Load.format, Load.file_name)
    )
    if start is not None:
        query = query.where(Observation.period_start >= pd.Timestamp(start).to_pydatetime())
    if end is not None:
        last = pd.Timestamp(end) + pd.Timedelta(days=1)
        query = query.where(Observation.period_start < last.to_pydatetime())
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [f"source: {fmt} ({file}) — {source}" for fmt, source, file in rows]


def review_inputs(
    store: Store,
    org: str,
    footprint: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ReviewInputs:
    """Read the series the review of drivers of pressure rests on.

    Args:
        store: the store to read.
        org: organisation reviewed.
        footprint: footprint whose member sites the organisation's share of demand is compared
            with (redistribution); areas among its members (ICB, STP, region) are left out.
        start: first day of the window (monthly series keep the month holding it).
        end: last day of the window.

    Returns:
        The frames, the series that are missing and the basis.

    Raises:
        UsageError: unknown organisation or footprint, the organisation is not a member of the
            footprint, or the window ends before it starts.
    """
    if start is not None and end is not None and start > end:
        raise UsageError(f"the review window starts ({start}) after it ends ({end})")
    info = store.organisation(org)
    reader = _Reader(store, start, end)
    month, day = Grain.MONTH, Grain.DAY

    types = [b for b in reader.breakdowns(org, "ae_attendances") if b != "all"]
    by_type = _keyed(
        {t: reader.read(org, "ae_attendances", t, month, required=False) for t in types}, "type"
    )
    if by_type.empty:
        reader.missing.append(f"{org} ae_attendances by A&E type: not stored in the window")
    attendances = reader.read(org, "ae_attendances", "all", month, required=by_type.empty)
    if attendances.empty and not by_type.empty:
        attendances = _sum_of_types(by_type)
        reader.basis.append(
            f"{org} ae_attendances [all]: the sum of the A&E types stored "
            f"({', '.join(sorted(by_type['type'].unique()))}); no total stored in the window"
        )
    admissions = reader.read(org, "emergency_admissions", "all", month)
    dta = reader.read(org, "ae_dta_over_4h", "all", month)
    breaches = reader.read(org, "ae_breaches_4h", "all", month)
    available = reader.read(org, "ga_beds_available", "all", month)
    occupied = reader.read(org, "ga_beds_occupied", "all", month)
    daily_attendances = _daily_if_stored(reader, org)
    discharges = reader.read(org, "discharges", "all", day)
    by_1700 = reader.read(org, "discharges", "by_1700", day)
    ctr = reader.read(org, "not_meeting_criteria_to_reside", "all", day)
    reasons = reader.breakdowns(org, "delayed_discharges")
    delayed = _keyed(
        {
            r: reader.read(org, "delayed_discharges", r, month, required=False, note=False)
            for r in reasons
        },
        "reason",
    )
    if delayed.empty:
        reader.missing.append(f"{org} delayed_discharges by reason: not stored in the window")
    else:
        reader.basis.append(
            f"{org} delayed_discharges by month: {delayed['reason'].nunique()} reasons, "
            f"{_span(delayed.drop_duplicates('period_start'), month)}"
        )

    members: list[str] = []
    fp_att = _orgs_frame()
    fp_adm = _orgs_frame()
    if footprint is not None:
        members = _footprint_members(store, footprint, org, reader)
        fp_att = _keyed({m: reader.read(m, "ae_attendances", "all", month) for m in members}, "org")
        fp_adm = _keyed(
            {m: reader.read(m, "emergency_admissions", "all", month) for m in members}, "org"
        )

    basis = reader.basis + _sources(store, [org, *members], start, end)
    window = f"{start or 'first stored period'} to {end or 'last stored period'}"
    return ReviewInputs(
        org=org,
        org_name=info.get("name"),
        footprint=footprint,
        footprint_members=members,
        start=start,
        end=end,
        attendances=attendances,
        attendances_by_type=by_type,
        admissions=admissions,
        dta_over_4h=dta,
        breaches=breaches,
        beds_available=available,
        beds_occupied=occupied,
        daily_attendances=daily_attendances,
        discharges=discharges,
        discharges_by_1700=by_1700,
        criteria_to_reside=ctr,
        delayed_discharges=delayed,
        footprint_attendances=fp_att,
        footprint_admissions=fp_adm,
        missing=reader.missing,
        basis=[f"window: {window}", *basis],
    )


def _daily_if_stored(reader: _Reader, org: str) -> pd.DataFrame:
    """Daily attendances where a series is stored by day or finer (local extracts); else empty."""
    grains = {
        s.grain for s in reader.store.series_list(org, "ae_attendances") if s.breakdown == "all"
    }
    if not grains & {Grain.DAY.value, Grain.HOUR.value}:
        return series_frame()
    return reader.read(org, "ae_attendances", "all", Grain.DAY, required=False)


def _footprint_members(store: Store, footprint: str, org: str, reader: _Reader) -> list[str]:
    found = {f["code"]: f for f in store.footprints()}
    if footprint not in found:
        raise UsageError(f"unknown footprint {footprint!r} (see `flowplan orgs footprint list`)")
    members: list[str] = list(found[footprint]["members"])
    if org not in members:
        raise UsageError(
            f"{org} is not a member of footprint {footprint} (members: {', '.join(members)})"
        )
    sites = []
    for member in members:
        kind = store.organisation(member)["type"]
        if kind in AREA_TYPES:
            reader.basis.append(
                f"footprint {footprint}: {member} ({kind}) left out of the shares — an area, "
                "not a site, whose A&E would count its trusts' attendances again"
            )
        else:
            sites.append(member)
    reader.basis.append(f"footprint {footprint}: sites compared {', '.join(sites)}")
    return sites
