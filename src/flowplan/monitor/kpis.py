"""Actual vs plan for every KPI of a plan: planned value, variance, RAG and SPC; scheme benefits.

For each KPI (:class:`flowplan.plans.model.Kpi`) of each scheme:

* **planned path** (monthly, :func:`planned_path`): the anchors are the baseline (at
  ``baseline_date``, else the plan's start), each trajectory point and the target, joined by
  straight lines between months exactly as :func:`flowplan.metrics.trajectory.build` with
  ``shape="linear"`` does (a point dated in a month is that month's planned value). After the
  target's month the plan **holds the target** (a KPI is expected to stay at its target), up to
  the latest actual.
* **latest actual**: the last monthly actual at or before ``as_at``; the planned value of that
  month, ``variance`` (actual − planned, metric units), ``variance_pct`` and the ``rag`` come from
  :func:`flowplan.metrics.trajectory.check` with the tolerances in ``kpis.toml``.
* **SPC** of all the monthly actuals to ``as_at`` (:func:`flowplan.metrics.spc.spc`, Making Data
  Count rules) with the KPI target: the icon codes ``spc_variation`` (``common_cause``,
  ``improvement_high``/``_low``, ``concern_high``/``_low``, ``neutral_high``/``_low``) and
  ``spc_assurance`` (``consistently_passes``, ``consistently_fails``, ``hit_or_miss``, or "").
* **benefit**: ``planned_change`` = planned − baseline and ``actual_change`` = actual −
  baseline (metric units); ``delivery_pct`` = actual_change ÷ planned_change × 100, the share of
  the planned improvement delivered by the latest month (NaN where none was planned).

A KPI's direction is its registry metric's; for ``custom`` (or a metric the registry does not
know) it is inferred from the plan: target above baseline → higher is better, below → lower is
better, equal → neutral (the ``note`` says so).

This module reads no store: the caller gives each KPI's monthly actuals
(:class:`KpiActuals`; :mod:`flowplan.store.monitor_inputs` reads them from stored series).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.errors import UsageError
from flowplan.metrics import spc as spc_engine
from flowplan.metrics import trajectory
from flowplan.metrics.registry import MetricDefinition, get
from flowplan.plans.model import Kpi, Plan

CONFIG_FILE = "kpis.toml"
IMPROVEMENT = {"higher_is_better": "increase", "lower_is_better": "decrease", "neutral": "neutral"}
KPI_COLUMNS: tuple[str, ...] = (
    "scheme_id",
    "scheme_title",
    "kpi",
    "metric",
    "name",
    "unit",
    "direction",
    "actuals_from",
    "baseline",
    "baseline_date",
    "target",
    "target_date",
    "latest_period",
    "actual",
    "planned",
    "variance",
    "variance_pct",
    "rag",
    "target_gap",
    "planned_change",
    "actual_change",
    "delivery_pct",
    "periods_compared",
    "green",
    "amber",
    "red",
    "spc_points",
    "spc_variation",
    "spc_assurance",
    "spc_point_type",
    "spc_trial_limits",
    "status",
    "note",
)
"""Columns of :func:`plan_kpis` (and keys of :func:`kpi_status`'s row)."""

BENEFIT_COLUMNS: tuple[str, ...] = (
    "scheme_id",
    "scheme_title",
    "kpis",
    "with_actuals",
    "green",
    "amber",
    "red",
    "rag",
    "mean_delivery_pct",
)
"""Columns of :func:`scheme_benefits`."""

STATUSES: tuple[str, ...] = ("ok", "no_actuals", "before_plan", "plan_error")
_RAG_ORDER = {"": 0, "green": 1, "amber": 2, "red": 3}


# --- Configuration ------------------------------------------------------------------------------

_FORBID = ConfigDict(extra="forbid", frozen=True)


class RagSettings(BaseModel):
    """RAG tolerances (see ``kpis.toml``)."""

    model_config = _FORBID

    green_tolerance: float = Field(ge=0, allow_inf_nan=False)
    amber_tolerance: float = Field(ge=0, allow_inf_nan=False)
    relative: bool
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> RagSettings:
        if self.amber_tolerance < self.green_tolerance:
            raise ValueError("amber_tolerance must be at least green_tolerance")
        return self


class SpcSettings(BaseModel):
    """SPC settings (see ``kpis.toml``)."""

    model_config = _FORBID

    min_points: int = Field(ge=spc_engine.MIN_POINTS)
    source: str = Field(min_length=1)


class KpiConfig(BaseModel):
    """Monitoring settings for plan KPIs (``kpis.toml``)."""

    model_config = _FORBID

    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    rag: RagSettings
    spc: SpcSettings


def parse_config(data: dict[str, object], where: str = CONFIG_FILE) -> KpiConfig:
    """A validated KPI monitoring configuration from parsed TOML.

    Raises:
        UsageError: one line per broken rule.
    """
    try:
        return KpiConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{where}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise UsageError("\n".join(lines)) from None


@cache
def load_config() -> KpiConfig:
    """The packaged ``kpis.toml``."""
    text = resources.files("flowplan.monitor").joinpath(CONFIG_FILE).read_text(encoding="utf-8")
    return parse_config(tomllib.loads(text))


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiActuals:
    """The monthly actuals of one KPI and where they came from.

    Attributes:
        frame: columns ``period_start`` (first day of each month) and ``value`` (in the KPI's
            unit); None when there are none.
        source: what was read ("LSC-SRG: sum of 5 members' ga_beds_occupied ÷ …").
        note: why there are no actuals, or a caveat.
    """

    frame: pd.DataFrame | None
    source: str = ""
    note: str = ""


def direction_of(kpi: Kpi) -> tuple[str, str, MetricDefinition | None]:
    """(direction, note, definition) of a KPI: the registry's, else inferred from the plan."""
    defn: MetricDefinition | None = None
    if kpi.metric != "custom":
        try:
            defn = get(kpi.metric)
        except UsageError:
            defn = None
    if defn is not None:
        return defn.direction, "", defn
    if kpi.target > kpi.baseline:
        inferred = "higher_is_better"
    elif kpi.target < kpi.baseline:
        inferred = "lower_is_better"
    else:
        inferred = "neutral"
    why = "custom KPI" if kpi.metric == "custom" else f"metric {kpi.metric!r} not in the registry"
    return inferred, f"{why}: direction {inferred} inferred from baseline → target", None


def _month(day: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(trajectory.period_start(pd.Timestamp(day).date(), "month"))


def planned_path(
    kpi: Kpi, *, default_baseline_date: date, through: date | None = None
) -> pd.DataFrame:
    """The KPI's planned value for each month from its baseline month on.

    Args:
        kpi: the KPI (baseline, trajectory points, target).
        default_baseline_date: baseline date to use when the KPI has none (the plan's start).
        through: extend the path to this month, holding the target after the target's month.

    Returns:
        Columns ``period_start`` (naive, first of the month), ``planned`` (metric units),
        ``is_target``, ``target_date``; the first row is the baseline month.

    Raises:
        UsageError: anchors out of order or two in one month (from trajectory.build).
    """
    base_day = kpi.baseline_date or default_baseline_date
    points = sorted(
        ((p.date, p.value) for p in kpi.trajectory if p.date != kpi.target_date),
        key=lambda pair: pair[0],
    )
    anchors = [*points, (kpi.target_date, kpi.target)]
    path = trajectory.build(kpi.baseline, base_day, anchors, grain="month", shape="linear")
    first = pd.DataFrame(
        {
            "period_start": [_month(base_day)],
            "planned": [float(kpi.baseline)],
            "is_target": [False],
            "target_date": pd.Series([pd.NaT], dtype="datetime64[ns]"),
        }
    )
    path = pd.concat([first, path], ignore_index=True)
    if through is not None:
        last = pd.Timestamp(path["period_start"].iloc[-1])
        end = _month(through)
        if end > last:
            months = pd.date_range(last + pd.DateOffset(months=1), end, freq="MS")
            hold = pd.DataFrame(
                {
                    "period_start": months,
                    "planned": float(kpi.target),
                    "is_target": False,
                    "target_date": pd.Series([pd.NaT] * len(months), dtype="datetime64[ns]"),
                }
            )
            path = pd.concat([path, hold], ignore_index=True)
    path["period_start"] = pd.to_datetime(path["period_start"]).astype("datetime64[ns]")
    return path.reset_index(drop=True)


def _monthly(frame: pd.DataFrame, as_at: date | None) -> pd.DataFrame:
    """Actuals as one value per month start, blanks dropped, up to ``as_at``."""
    missing = [c for c in ("period_start", "value") if c not in frame.columns]
    if missing:
        raise UsageError(f"KPI actuals need columns period_start and value (missing {missing})")
    out = pd.DataFrame(
        {
            "period_start": pd.to_datetime(frame["period_start"]).astype("datetime64[ns]"),
            "value": pd.to_numeric(frame["value"], errors="coerce").astype("float64"),
        }
    ).dropna()
    keep = np.isfinite(out["value"].to_numpy())
    if as_at is not None:
        keep &= (out["period_start"] <= _month(as_at)).to_numpy()
    checked: pd.DataFrame = out.loc[keep].sort_values("period_start").reset_index(drop=True)
    return checked


def _blank_row() -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(KPI_COLUMNS, None)
    for key in (
        "actual",
        "planned",
        "variance",
        "variance_pct",
        "target_gap",
        "planned_change",
        "actual_change",
        "delivery_pct",
    ):
        row[key] = math.nan
    for key in ("periods_compared", "green", "amber", "red", "spc_points"):
        row[key] = 0
    for key in ("rag", "spc_variation", "spc_assurance", "spc_point_type", "note", "actuals_from"):
        row[key] = ""
    row["spc_trial_limits"] = False
    return row


def kpi_status(
    kpi: Kpi,
    actuals: KpiActuals,
    *,
    default_baseline_date: date,
    as_at: date | None = None,
    config: KpiConfig | None = None,
) -> dict[str, Any]:
    """Actual vs plan of one KPI at its latest actual month.

    Args:
        kpi: the KPI.
        actuals: its monthly actuals (``frame`` may be None).
        default_baseline_date: baseline date when the KPI has none (the plan's start).
        as_at: ignore actuals after this month (default: use all).
        config: tolerances and SPC settings (default: ``kpis.toml``).

    Returns:
        One row, keys :data:`KPI_COLUMNS` (``scheme_id``, ``scheme_title`` and ``kpi`` are None;
        :func:`plan_kpis` fills them). ``status``: ``ok``; ``no_actuals``; ``before_plan`` (the
        latest actual precedes the baseline month); ``plan_error`` (the anchors cannot make a
        path; ``note`` says why).
    """
    cfg = config if config is not None else load_config()
    direction, note, defn = direction_of(kpi)
    row = _blank_row()
    notes = [n for n in (note, actuals.note) if n]
    row.update(
        metric=kpi.metric,
        name=kpi.description or (defn.name if defn else kpi.metric),
        unit=(defn.unit if defn else kpi.unit) or "",
        direction=direction,
        actuals_from=actuals.source,
        baseline=float(kpi.baseline),
        baseline_date=kpi.baseline_date or default_baseline_date,
        target=float(kpi.target),
        target_date=kpi.target_date,
    )
    monthly = _monthly(actuals.frame, as_at) if actuals.frame is not None else None
    if monthly is None or monthly.empty:
        row.update(status="no_actuals", note="; ".join(notes or ["no actuals"]))
        return row
    latest = pd.Timestamp(monthly["period_start"].iloc[-1])
    actual = float(monthly["value"].iloc[-1])
    row.update(latest_period=latest.date(), actual=actual, target_gap=actual - kpi.target)
    row.update(_spc_summary(monthly, direction, kpi.target, cfg, notes))
    try:
        path = planned_path(kpi, default_baseline_date=default_baseline_date, through=latest)
    except UsageError as exc:
        notes.append(f"plan path: {exc}")
        row.update(status="plan_error", note="; ".join(notes))
        return row
    rated = trajectory.check(
        path[["period_start", "planned"]],
        monthly,
        direction=direction,
        green_tolerance=cfg.rag.green_tolerance,
        amber_tolerance=cfg.rag.amber_tolerance,
        relative=cfg.rag.relative,
    )
    counts = trajectory.summary(rated)
    row.update(
        periods_compared=counts["periods_compared"],
        green=counts["green"],
        amber=counts["amber"],
        red=counts["red"],
    )
    at = rated[rated["period_start"] == latest]
    if at.empty:
        first = pd.Timestamp(path["period_start"].iloc[0])
        notes.append(f"latest actual {latest:%Y-%m} is before the baseline month {first:%Y-%m}")
        row.update(status="before_plan", note="; ".join(notes))
        return row
    got = at.iloc[0]
    planned = float(got["planned"])
    planned_change = planned - kpi.baseline
    actual_change = actual - kpi.baseline
    row.update(
        planned=planned,
        variance=float(got["variance"]),
        variance_pct=float(got["variance_pct"]),
        rag=str(got["rag"]),
        planned_change=planned_change,
        actual_change=actual_change,
        delivery_pct=actual_change / planned_change * 100.0 if planned_change != 0 else math.nan,
        status="ok",
        note="; ".join(notes),
    )
    return row


def _spc_summary(
    monthly: pd.DataFrame, direction: str, target: float, cfg: KpiConfig, notes: list[str]
) -> dict[str, Any]:
    """SPC icon codes of the monthly actuals, or a note why there are none."""
    points = len(monthly)
    if points < cfg.spc.min_points:
        notes.append(f"no SPC: {points} month(s) of actuals, fewer than {cfg.spc.min_points}")
        return {"spc_points": points}
    result = spc_engine.spc(
        list(monthly["period_start"]),
        monthly["value"].to_numpy(dtype=np.float64),
        improvement=IMPROVEMENT[direction],  # type: ignore[arg-type]
        target=target,
    )
    last = result.frame.iloc[-1]
    return {
        "spc_points": points,
        "spc_variation": result.variation,
        "spc_assurance": result.assurance or "",
        "spc_point_type": str(last["point_type"]),
        "spc_trial_limits": bool(last["trial_limits"]),
    }


def plan_kpis(
    plan: Plan,
    actuals: Mapping[tuple[str, int], KpiActuals],
    *,
    as_at: date | None = None,
    config: KpiConfig | None = None,
) -> pd.DataFrame:
    """Actual vs plan for every KPI of every scheme of a plan.

    Args:
        plan: the plan.
        actuals: (scheme id, KPI index within the scheme, from 0) → the KPI's actuals; a KPI
            without an entry has no actuals.
        as_at: ignore actuals after this month.
        config: tolerances and SPC settings (default: ``kpis.toml``).

    Returns:
        One row per KPI in plan order, columns :data:`KPI_COLUMNS`.
    """
    rows = []
    for scheme in plan.schemes:
        for index, kpi in enumerate(scheme.kpis):
            got = actuals.get((scheme.id, index), KpiActuals(None, note="no actuals given"))
            row = kpi_status(
                kpi, got, default_baseline_date=plan.period_start, as_at=as_at, config=config
            )
            row.update(scheme_id=scheme.id, scheme_title=scheme.title, kpi=index)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(KPI_COLUMNS))
    for col in ("kpi", "periods_compared", "green", "amber", "red", "spc_points"):
        frame[col] = frame[col].astype("int64")
    return frame


def scheme_benefits(table: pd.DataFrame) -> pd.DataFrame:
    """Benefits tracking per scheme from :func:`plan_kpis`'s table.

    Returns:
        One row per scheme in table order, columns :data:`BENEFIT_COLUMNS`: KPI counts, latest
        RAG counts, the scheme's ``rag`` (its worst KPI's; "" when none has actuals) and
        ``mean_delivery_pct`` (mean of its KPIs' delivery_pct, NaN when none).
    """
    rows = []
    for scheme_id, group in table.groupby("scheme_id", sort=False):
        rags = [str(r) for r in group["rag"]]
        worst = max(rags, key=lambda r: _RAG_ORDER.get(r, 0)) if rags else ""
        delivery = group["delivery_pct"].astype("float64").dropna()
        rows.append(
            {
                "scheme_id": scheme_id,
                "scheme_title": str(group["scheme_title"].iloc[0]),
                "kpis": len(group),
                "with_actuals": int((group["status"] != "no_actuals").sum()),
                "green": rags.count("green"),
                "amber": rags.count("amber"),
                "red": rags.count("red"),
                "rag": worst,
                "mean_delivery_pct": float(delivery.mean()) if len(delivery) else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(BENEFIT_COLUMNS))


def kpi_by_breakdown(
    kpi: Kpi,
    actuals: pd.DataFrame,
    *,
    default_baseline_date: date,
    as_at: date | None = None,
    config: KpiConfig | None = None,
) -> pd.DataFrame:
    """Actual vs plan of one KPI for each breakdown (deprivation decile, ethnic group, …).

    Args:
        kpi: the KPI (one plan for every breakdown).
        actuals: columns ``period_start``, ``breakdown``, ``value``.
        default_baseline_date: as :func:`kpi_status`.
        as_at: as :func:`kpi_status`.
        config: as :func:`kpi_status`.

    Returns:
        One row per breakdown (sorted), column ``breakdown`` then :data:`KPI_COLUMNS` minus the
        scheme and kpi columns.

    Raises:
        UsageError: no ``breakdown`` column.
    """
    if "breakdown" not in actuals.columns:
        raise UsageError("actuals by breakdown need a breakdown column")
    rows = []
    for label, group in actuals.groupby("breakdown", sort=True):
        row = kpi_status(
            kpi,
            KpiActuals(group[["period_start", "value"]]),
            default_baseline_date=default_baseline_date,
            as_at=as_at,
            config=config,
        )
        rows.append({"breakdown": str(label), **row})
    columns = [
        "breakdown",
        *(c for c in KPI_COLUMNS if c not in ("scheme_id", "scheme_title", "kpi")),
    ]
    return pd.DataFrame(rows, columns=columns)
