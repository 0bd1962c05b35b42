"""The store's operations: write validated files, read series, manage organisations and footprints.

Every write runs in one transaction: a conflict or failure leaves the store exactly as it was.
"""

from __future__ import annotations

import getpass
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from flowplan.data.grain import Grain, regrain
from flowplan.data.measures import aggregation_of
from flowplan.data.orgfiles import FootprintRow, OrganisationRecord, PopulationRecord
from flowplan.data.parsed import ParsedFile
from flowplan.errors import Problem, StoreConflictError, StoreError, UsageError
from flowplan.store import db
from flowplan.store.models import (
    Footprint,
    FootprintMember,
    Load,
    Observation,
    Organisation,
    OrgLink,
    Population,
    Series,
)

CHUNK = 20_000
ID_CHUNK = 500
# organisation types a more specific one replaces ("provider" is any A&E or RTT provider)
GENERIC_TYPES = ("unknown", "provider")
FOOTPRINT_TYPES = ("icb", "stp", "srg", "region", "unit_of_planning", "hwb", "place", "other")
Progress = Callable[[int], None]


@dataclass
class IngestReport:
    """What one file's ingestion did (or, in a dry run, would do)."""

    file: str
    format: str
    load_id: int | None
    rows_read: int
    rows_rejected: int
    written: int
    unchanged: int
    replaced: int
    series: int
    period: tuple[pd.Timestamp, pd.Timestamp] | None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SeriesInfo:
    """A stored series and its extent."""

    org_code: str
    measure: str
    breakdown: str
    grain: str
    count: int
    first: datetime
    last: datetime


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class Store:
    """A migrated flowplan database.

    Args:
        url: database URL; defaults to ``FLOWPLAN_DATABASE_URL`` or the SQLite file under
            ``FLOWPLAN_HOME``.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = db.database_url(url)
        self.engine: Engine = db.make_engine(self.url)
        db.migrate(self.engine)

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    # -- ingestion ------------------------------------------------------------------------------

    def ingest(
        self,
        files: Sequence[ParsedFile],
        *,
        replace: bool = False,
        dry_run: bool = False,
        who: str | None = None,
        progress: Progress | None = None,
    ) -> list[IngestReport]:
        """Write validated files, all in one transaction.

        A value equal to the stored one is left alone (so reloading a file is idempotent); a new
        value is inserted; a different value for a stored period is a conflict, reported for
        every row, unless ``replace`` is set, when it is overwritten and attributed to this load.

        Args:
            files: parsed files, written in order.
            replace: overwrite conflicting stored values.
            dry_run: do everything, report it, then roll back.
            who: user recorded on the load (defaults to the login name).
            progress: called with the number of observations handled so far.

        Raises:
            StoreConflictError: conflicting values and ``replace`` not set; nothing is written.
        """
        who = who or login_name()
        reports: list[IngestReport] = []
        done = 0
        try:
            with self.engine.connect() as conn:
                trans = conn.begin()
                try:
                    for parsed in files:
                        report = self._ingest_one(conn, parsed, replace, who, progress, done)
                        done += len(parsed.observations)
                        reports.append(report)
                    if dry_run:
                        trans.rollback()
                    else:
                        trans.commit()
                except BaseException:
                    trans.rollback()
                    raise
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            reason = str(orig or exc).strip().splitlines()[0]
            raise StoreError(f"store write failed, nothing written: {reason}") from None
        return reports

    def _ingest_one(
        self,
        conn: Connection,
        parsed: ParsedFile,
        replace: bool,
        who: str,
        progress: Progress | None,
        done_before: int,
    ) -> IngestReport:
        started = datetime.now()
        self._upsert_organisations(conn, parsed.organisations)
        self._upsert_links(conn, parsed.links)
        obs = parsed.observations
        written = unchanged = replaced = 0
        conflicts: pd.DataFrame | None = None
        fresh = obs.iloc[0:0]
        if not obs.empty:
            ids = self._ensure_series(conn, obs)
            obs = obs.assign(series_id=ids)
            stored = self._stored_values(conn, obs)
            merged = obs.merge(stored, on=["series_id", "period_start"], how="left")
            is_new = merged["stored_value"].isna().to_numpy()
            same = np.isclose(
                merged["value"].to_numpy(), merged["stored_value"].to_numpy(), rtol=1e-9, atol=1e-9
            )
            differs = ~is_new & ~same
            fresh = merged[is_new]
            conflicts = merged[differs]
            unchanged = int((~is_new & same).sum())
            if len(conflicts) and not replace:
                raise StoreConflictError(_conflict_problems(parsed.file, conflicts))

        load_id = self._insert_load(conn, parsed, replace, who, started)
        if not fresh.empty:
            written = self._insert_observations(conn, fresh, load_id, progress, done_before)
        if conflicts is not None and len(conflicts):
            replaced = self._replace_observations(conn, conflicts, load_id)
        conn.execute(
            update(Load)
            .where(Load.id == load_id)
            .values(
                rows_written=written,
                rows_unchanged=unchanged,
                rows_replaced=replaced,
                finished_at=datetime.now(),
            )
        )
        if progress:
            progress(done_before + len(obs))
        return IngestReport(
            file=parsed.file,
            format=parsed.format,
            load_id=load_id,
            rows_read=parsed.rows_read,
            rows_rejected=parsed.rows_rejected,
            written=written,
            unchanged=unchanged,
            replaced=replaced,
            series=parsed.series_count(),
            period=parsed.period_range(),
            warnings=[str(w) for w in parsed.warnings],
        )

    def _insert_load(
        self, conn: Connection, parsed: ParsedFile, replace: bool, who: str, started: datetime
    ) -> int:
        result = conn.execute(
            insert(Load)
            .values(
                file_name=parsed.file[-512:],
                sha256=parsed.sha256,
                format=parsed.format,
                source=parsed.source[:512],
                rows_read=parsed.rows_read,
                rows_written=0,
                rows_unchanged=0,
                rows_replaced=0,
                rows_rejected=parsed.rows_rejected,
                warnings=json.dumps([str(w) for w in parsed.warnings]),
                replace=replace,
                started_at=started,
                finished_at=started,
                who=who[:128],
            )
            .returning(Load.id)
        )
        return int(result.scalar_one())

    def _upsert_organisations(self, conn: Connection, orgs: pd.DataFrame) -> None:
        if orgs.empty:
            return
        rows = orgs.drop_duplicates("code", keep="first").to_dict("records")
        codes = [r["code"] for r in rows]
        existing: dict[str, Any] = {}
        for part in _chunks(codes, ID_CHUNK):
            for org in conn.execute(select(Organisation).where(Organisation.code.in_(part))):
                existing[org.code] = org
        new = []
        for r in rows:
            name = _none_if_nan(r.get("name"))
            parent = _none_if_nan(r.get("parent_code"))
            if r["code"] not in existing:
                new.append(
                    {"code": r["code"], "name": name, "type": r["type"], "parent_code": parent}
                )
                continue
            old = existing[r["code"]]
            changes: dict[str, Any] = {}
            if name and name != old.name:
                changes["name"] = name
            if parent and parent != old.parent_code:
                changes["parent_code"] = parent
            if old.type in GENERIC_TYPES and r["type"] not in GENERIC_TYPES:
                changes["type"] = r["type"]  # a file that knows better (a trust) refines it
            if changes:
                conn.execute(
                    update(Organisation).where(Organisation.code == r["code"]).values(**changes)
                )
        if new:
            conn.execute(insert(Organisation), new)

    def _upsert_links(self, conn: Connection, links: pd.DataFrame) -> None:
        for r in links.to_dict("records"):
            where = and_(
                OrgLink.from_code == r["from_code"],
                OrgLink.to_code == r["to_code"],
                OrgLink.kind == r["kind"],
            )
            found = conn.execute(select(OrgLink.id).where(where)).scalar_one_or_none()
            if found is None:
                conn.execute(
                    insert(OrgLink).values(
                        from_code=r["from_code"],
                        to_code=r["to_code"],
                        kind=r["kind"],
                        weight=float(r["weight"]),
                    )
                )
            else:
                conn.execute(update(OrgLink).where(OrgLink.id == found).values(weight=r["weight"]))

    def _ensure_series(self, conn: Connection, obs: pd.DataFrame) -> np.ndarray:
        """Series id of every observation row, creating the series that do not exist yet."""
        keys = ["org_code", "measure", "breakdown", "grain"]
        wanted = obs[keys].drop_duplicates()
        orgs = wanted["org_code"].unique().tolist()
        measures = wanted["measure"].unique().tolist()

        def stored() -> dict[tuple[str, str, str, str], int]:
            found: dict[tuple[str, str, str, str], int] = {}
            for part in _chunks(orgs, ID_CHUNK):
                query = select(Series.id, *(getattr(Series, k) for k in keys)).where(
                    Series.org_code.in_(part), Series.measure.in_(measures)
                )
                for sid, org, measure, breakdown, grain in conn.execute(query):
                    found[(org, measure, breakdown, grain)] = sid
            return found

        ids = stored()
        missing = [tuple(k) for k in wanted.itertuples(index=False) if tuple(k) not in ids]
        if missing:
            conn.execute(insert(Series), [dict(zip(keys, k, strict=True)) for k in missing])
            ids = stored()
        index = pd.MultiIndex.from_tuples(list(ids), names=keys)
        lookup = pd.Series(list(ids.values()), index=index)
        return lookup.reindex(pd.MultiIndex.from_frame(obs[keys])).to_numpy(dtype=np.int64)

    def _stored_values(self, conn: Connection, obs: pd.DataFrame) -> pd.DataFrame:
        series_ids = sorted(int(s) for s in obs["series_id"].unique())
        lo = pd.Timestamp(obs["period_start"].min()).to_pydatetime()
        hi = pd.Timestamp(obs["period_start"].max()).to_pydatetime()
        frames = []
        for part in _chunks(series_ids, ID_CHUNK):
            query = select(
                Observation.series_id,
                Observation.period_start,
                Observation.value,
                Observation.load_id,
            ).where(
                Observation.series_id.in_(part),
                Observation.period_start >= lo,
                Observation.period_start <= hi,
            )
            rows = conn.execute(query).all()
            if rows:
                frames.append(
                    pd.DataFrame(
                        rows, columns=["series_id", "period_start", "stored_value", "stored_load"]
                    )
                )
        if not frames:
            return pd.DataFrame(
                {
                    "series_id": pd.Series(dtype=np.int64),
                    "period_start": pd.Series(dtype="datetime64[ns]"),
                    "stored_value": pd.Series(dtype=float),
                    "stored_load": pd.Series(dtype=np.int64),
                }
            )
        out = pd.concat(frames, ignore_index=True)
        out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
        out["series_id"] = out["series_id"].astype(np.int64)
        return out

    def _insert_observations(
        self,
        conn: Connection,
        fresh: pd.DataFrame,
        load_id: int,
        progress: Progress | None,
        done_before: int,
    ) -> int:
        series_ids = fresh["series_id"].astype(int).tolist()
        periods = pd.DatetimeIndex(fresh["period_start"]).to_pydatetime().tolist()
        values = fresh["value"].astype(float).tolist()
        total = len(values)
        if self.backend == "postgresql":
            self._copy_observations(
                conn, series_ids, periods, values, load_id, progress, done_before
            )
            return total
        for start in range(0, total, CHUNK):
            stop = min(start + CHUNK, total)
            conn.execute(
                insert(Observation),
                [
                    {"series_id": s, "period_start": p, "value": v, "load_id": load_id}
                    for s, p, v in zip(
                        series_ids[start:stop], periods[start:stop], values[start:stop], strict=True
                    )
                ],
            )
            if progress:
                progress(done_before + stop)
        return total

    def _copy_observations(
        self,
        conn: Connection,
        series_ids: list[int],
        periods: list[datetime],
        values: list[float],
        load_id: int,
        progress: Progress | None,
        done_before: int,
    ) -> None:
        """PostgreSQL fast path: COPY the rows in on the transaction's own connection."""
        raw: Any = conn.connection.driver_connection
        sql = "COPY observations (series_id, period_start, value, load_id) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for i, row in enumerate(zip(series_ids, periods, values, strict=True), start=1):
                copy.write_row((*row, load_id))
                if progress and i % CHUNK == 0:
                    progress(done_before + i)

    def _replace_observations(self, conn: Connection, conflicts: pd.DataFrame, load_id: int) -> int:
        params = [
            {"sid": int(s), "ps": pd.Timestamp(p).to_pydatetime(), "val": float(v), "lid": load_id}
            for s, p, v in zip(
                conflicts["series_id"], conflicts["period_start"], conflicts["value"], strict=True
            )
        ]
        stmt = (
            update(Observation)
            .where(
                Observation.series_id == bindparam("sid"),
                Observation.period_start == bindparam("ps"),
            )
            .values(value=bindparam("val"), load_id=bindparam("lid"))
        )
        conn.execute(stmt, params)
        return len(params)

    # -- reading --------------------------------------------------------------------------------

    def series_list(self, org: str | None = None, measure: str | None = None) -> list[SeriesInfo]:
        """Stored series with their number of periods and first/last period."""
        query = (
            select(
                Series.org_code,
                Series.measure,
                Series.breakdown,
                Series.grain,
                func.count(Observation.period_start),
                func.min(Observation.period_start),
                func.max(Observation.period_start),
            )
            .join(Observation, Observation.series_id == Series.id)
            .group_by(Series.id, Series.org_code, Series.measure, Series.breakdown, Series.grain)
            .order_by(Series.org_code, Series.measure, Series.breakdown, Series.grain)
        )
        if org:
            query = query.where(Series.org_code == org)
        if measure:
            query = query.where(Series.measure == measure)
        with self.engine.connect() as conn:
            return [SeriesInfo(*row) for row in conn.execute(query)]

    def read_series(
        self,
        org: str,
        measure: str,
        breakdown: str | None = None,
        grain: Grain | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> tuple[pd.DataFrame, Grain, str]:
        """One series as a frame, re-aggregated to a coarser grain on request.

        Args:
            org: organisation code.
            measure: canonical measure name.
            breakdown: breakdown label; when None, "all" if stored, else the only one stored.
            grain: grain wanted; when None, the finest stored. Coarser grains are computed from
                the finest stored grain (sum for flows, mean for averaged stocks, last for
                snapshots).
            start: first period start to include (inclusive, at the output grain).
            end: last period start to include (inclusive, at the output grain).

        Returns:
            (frame with ``period_start``, ``value``, ``periods``; the grain; the breakdown).

        Raises:
            UsageError: no such series, or the breakdown is ambiguous.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Series.id, Series.breakdown, Series.grain).where(
                    Series.org_code == org, Series.measure == measure
                )
            ).all()
            if not rows:
                raise UsageError(f"no series {measure!r} for organisation {org!r}")
            breakdowns = sorted({r.breakdown for r in rows})
            if breakdown is None:
                if "all" in breakdowns:
                    breakdown = "all"
                elif len(breakdowns) == 1:
                    breakdown = breakdowns[0]
                else:
                    shown = ", ".join(breakdowns[:12]) + (" ..." if len(breakdowns) > 12 else "")
                    raise UsageError(
                        f"{org} {measure} has several breakdowns; choose one with --breakdown: "
                        f"{shown}"
                    )
            candidates = [r for r in rows if r.breakdown == breakdown]
            if not candidates:
                raise UsageError(f"no breakdown {breakdown!r} of {org} {measure}")
            finest = min(candidates, key=lambda r: Grain(r.grain).rank)
            source_grain = Grain(finest.grain)
            target = grain or source_grain
            if target.rank < source_grain.rank:
                raise UsageError(
                    f"{org} {measure} is stored by {source_grain.value}; "
                    f"it cannot be shown by the finer {target.value}"
                )
            exact = [r for r in candidates if Grain(r.grain) is target]
            chosen = exact[0] if exact else finest
            query = (
                select(Observation.period_start, Observation.value)
                .where(Observation.series_id == chosen.id)
                .order_by(Observation.period_start)
            )
            data = conn.execute(query).all()
        frame = pd.DataFrame(data, columns=["period_start", "value"])
        frame["period_start"] = pd.to_datetime(frame["period_start"])
        frame["value"] = frame["value"].astype(float)
        out = regrain(frame, Grain(chosen.grain), target, aggregation_of(measure))
        if start is not None:
            out = out[out["period_start"] >= pd.Timestamp(start)]
        if end is not None:
            out = out[out["period_start"] <= pd.Timestamp(end)]
        return out.reset_index(drop=True), target, breakdown

    def loads(self, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent loads, newest first."""
        table = Load.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings()
            return [dict(r) for r in rows]

    def data_version(self) -> tuple[int, int, int]:
        """A cheap key that changes whenever stored data changes: the newest load's id, the
        number of organisations and the number of footprint memberships (for caches)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    select(func.coalesce(func.max(Load.id), 0)).scalar_subquery(),
                    select(func.count()).select_from(Organisation).scalar_subquery(),
                    select(func.count()).select_from(FootprintMember).scalar_subquery(),
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def counts(self) -> dict[str, int]:
        """Rows in each main table."""
        out = {}
        with self.engine.connect() as conn:
            for name, model in (
                ("organisations", Organisation),
                ("footprints", Footprint),
                ("series", Series),
                ("observations", Observation),
                ("loads", Load),
            ):
                out[name] = int(conn.execute(select(func.count()).select_from(model)).scalar_one())
        return out

    # -- organisations, footprints, populations -------------------------------------------------

    def organisations(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Organisations with their number of stored series."""
        n_series = (
            select(Series.org_code, func.count(Series.id).label("n"))
            .group_by(Series.org_code)
            .subquery()
        )
        query = (
            select(Organisation, func.coalesce(n_series.c.n, 0))
            .outerjoin(n_series, n_series.c.org_code == Organisation.code)
            .order_by(Organisation.type, Organisation.code)
        )
        if type_:
            query = query.where(Organisation.type == type_)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "code": r[0],
                "name": r[1],
                "type": r[2],
                "parent_code": r[3],
                "valid_from": r[4],
                "valid_to": r[5],
                "series": r[-1],
            }
            for r in rows
        ]

    def organisation(self, code: str) -> dict[str, Any]:
        """One organisation with its parent, children, footprints, links and populations.

        Raises:
            UsageError: unknown code.
        """
        with self.engine.connect() as conn:
            org = (
                conn.execute(select(Organisation.__table__).where(Organisation.code == code))
                .mappings()
                .first()
            )
            if org is None:
                raise UsageError(f"unknown organisation {code!r}")
            children = (
                conn.execute(select(Organisation.code).where(Organisation.parent_code == code))
                .scalars()
                .all()
            )
            footprints = (
                conn.execute(
                    select(FootprintMember.footprint_code).where(FootprintMember.org_code == code)
                )
                .scalars()
                .all()
            )
            links = conn.execute(
                select(OrgLink.from_code, OrgLink.to_code, OrgLink.kind, OrgLink.weight).where(
                    (OrgLink.from_code == code) | (OrgLink.to_code == code)
                )
            ).all()
            pops = conn.execute(
                select(Population.year, Population.age_group, Population.population)
                .where(Population.org_code == code)
                .order_by(Population.year, Population.age_group)
            ).all()
        return {
            **dict(org),
            "children": list(children),
            "footprints": list(footprints),
            "links": [tuple(link) for link in links],
            "populations": [tuple(p) for p in pops],
            "series": self.series_list(org=code),
        }

    def load_organisations(self, records: Sequence[OrganisationRecord]) -> int:
        """Insert or update organisations from a reference file; values given replace stored
        ones, blanks leave them."""
        with self.engine.begin() as conn:
            for rec in records:
                values = {k: v for k, v in asdict(rec).items() if v is not None and k != "code"}
                exists = conn.execute(
                    select(Organisation.code).where(Organisation.code == rec.code)
                ).scalar_one_or_none()
                if exists is None:
                    conn.execute(
                        insert(Organisation).values(code=rec.code, **{"type": "unknown", **values})
                    )
                elif values:
                    conn.execute(
                        update(Organisation).where(Organisation.code == rec.code).values(**values)
                    )
        return len(records)

    def create_footprint(
        self,
        code: str,
        type_: str,
        members: Iterable[str],
        name: str | None = None,
        *,
        replace: bool = False,
    ) -> None:
        """Define a footprint and its members (members unknown to the store are created).

        Raises:
            UsageError: bad type, no members, or the footprint exists and ``replace`` is False.
        """
        codes = [m for m in members if m]
        if not codes:
            raise UsageError(f"footprint {code} has no members")
        self.load_footprints([FootprintRow(code, name, type_, m) for m in codes], replace=replace)

    def load_footprints(
        self, rows: Sequence[FootprintRow], *, replace: bool = False
    ) -> dict[str, int]:
        """Define footprints from footprint-member rows, in one transaction.

        Returns:
            Members per footprint.

        Raises:
            UsageError: bad type, no members, or an existing footprint without ``replace``.
        """
        grouped: dict[str, tuple[str | None, str, list[str]]] = {}
        for row in rows:
            code, name, member = row.footprint_code, row.footprint_name, row.member_code
            type_ = row.footprint_type.lower()
            if type_ not in FOOTPRINT_TYPES:
                known = ", ".join(FOOTPRINT_TYPES)
                raise UsageError(f"footprint {code}: unknown type {type_!r} (one of {known})")
            entry = grouped.setdefault(code, (name, type_, []))
            if member and member not in entry[2]:
                entry[2].append(member)
        with self.engine.begin() as conn:
            for code, (name, type_, members) in grouped.items():
                if not members:
                    raise UsageError(f"footprint {code} has no members")
                exists = conn.execute(
                    select(Footprint.code).where(Footprint.code == code)
                ).scalar_one_or_none()
                if exists and not replace:
                    raise UsageError(f"footprint {code} exists; use --replace to redefine it")
                if exists:
                    conn.execute(
                        delete(FootprintMember).where(FootprintMember.footprint_code == code)
                    )
                    conn.execute(delete(Footprint).where(Footprint.code == code))
                orgs = pd.DataFrame(
                    {"code": members, "name": None, "type": "unknown", "parent_code": None}
                )
                self._upsert_organisations(conn, orgs)
                conn.execute(insert(Footprint).values(code=code, name=name, type=type_))
                conn.execute(
                    insert(FootprintMember),
                    [{"footprint_code": code, "org_code": m} for m in members],
                )
        return {code: len(entry[2]) for code, entry in grouped.items()}

    def footprints(self) -> list[dict[str, Any]]:
        """Footprints with their members."""
        with self.engine.connect() as conn:
            fps = conn.execute(
                select(Footprint.code, Footprint.name, Footprint.type).order_by(Footprint.code)
            ).all()
            members = conn.execute(
                select(FootprintMember.footprint_code, FootprintMember.org_code).order_by(
                    FootprintMember.footprint_code, FootprintMember.org_code
                )
            ).all()
        by_fp: dict[str, list[str]] = {}
        for fp_code, org_code in members:
            by_fp.setdefault(fp_code, []).append(org_code)
        return [
            {"code": f.code, "name": f.name, "type": f.type, "members": by_fp.get(f.code, [])}
            for f in fps
        ]

    def load_populations(self, rows: Sequence[PopulationRecord], *, replace: bool = False) -> int:
        """Store populations (one transaction).

        Raises:
            UsageError: a population already stored differs and ``replace`` is False.
        """
        with self.engine.begin() as conn:
            orgs = pd.DataFrame(
                {
                    "code": sorted({r.org_code for r in rows}),
                    "name": None,
                    "type": "unknown",
                    "parent_code": None,
                }
            )
            self._upsert_organisations(conn, orgs)
            for rec in rows:
                org, year, age, pop = rec.org_code, rec.year, rec.age_group, rec.population
                source = rec.source
                key = and_(
                    Population.org_code == org, Population.year == year, Population.age_group == age
                )
                old = conn.execute(select(Population.population).where(key)).scalar_one_or_none()
                if old is None:
                    conn.execute(
                        insert(Population).values(
                            org_code=org, year=year, age_group=age, population=pop, source=source
                        )
                    )
                elif not math.isclose(old, pop):
                    if not replace:
                        raise UsageError(
                            f"population of {org} {year} {age} is stored as {old:g}; "
                            f"the file has {pop:g} (use --replace)"
                        )
                    conn.execute(
                        update(Population).where(key).values(population=pop, source=source)
                    )
        return len(rows)


def login_name() -> str:
    """The operating-system user, recorded on loads and plan changes when no user is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _conflict_problems(file: str, conflicts: pd.DataFrame) -> list[Problem]:
    out = []
    r: Any
    for r in conflicts.sort_values("row").itertuples(index=False):
        period = pd.Timestamp(r.period_start).isoformat().replace("T00:00:00", "")
        out.append(
            Problem(
                file,
                int(r.row),
                "value",
                f"conflicts with the value stored by load {int(r.stored_load)} (use --replace)",
                f"{r.org_code} {r.measure} [{r.breakdown}] {period}: "
                f"stored {r.stored_value:g}, file {r.value:g}",
            )
        )
    return out
