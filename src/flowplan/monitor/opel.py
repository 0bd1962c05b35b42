"""OPEL-style escalation levels: a level 1–4 per day from weighted indicator scores.

The scheme follows the structure of NHS England's Operational Pressures Escalation Levels
(OPEL) framework 2023/24: each indicator's value falls in a **band**; the band's **score** times
the indicator's **weight** gives its **points**; the day's points set its **level**. Everything
numeric lives in the versioned ``opel.toml`` beside this module (or a file the caller gives):

* bands: an indicator with thresholds ``[t1, …, tk]`` has ``k + 1`` bands. With direction
  ``higher_is_worse`` band 1 is ``value < t1`` and band ``j`` (2 … k+1) is
  ``t(j-1) <= value < tj`` (the last has no upper edge): a value exactly on an edge goes to the
  worse band. With ``lower_is_worse`` the bands mirror: band 1 is ``value > tk`` and a value on an
  edge again goes to the worse band.
* points: ``weight × scores[band - 1]``.
* level: ``score_pct = points ÷ points possible × 100``, where points possible is the sum of
  ``weight × max(scores)`` over the indicators **with a value that day** (so a missing indicator
  neither raises nor lowers the level); the level is the highest configured level whose
  ``min_score_pct`` is at or below ``score_pct``. Days with fewer than ``min_indicators``
  indicators get no level (``<NA>``).

Frames (naive ``datetime64[ns]`` dates, one day per row):

* input ``indicators``: ``date``, ``indicator`` (an ``id`` from the config), ``value`` (in the
  indicator's unit); one row per date and indicator; blank values mean no data.
* :func:`opel_scores`: ``date``, ``indicator``, ``name``, ``unit``, ``value``, ``band``,
  ``score``, ``weight``, ``points``, ``max_points``, ``reason``.
* :func:`opel_levels`: ``date``, ``level`` (Int64, ``<NA>`` where too few indicators),
  ``level_name``, ``score`` (points), ``max_score``, ``score_pct``, ``indicators`` (how many had a
  value), ``reasons`` (list of text, one per configured indicator, worst points first).

This module reads no store; :mod:`flowplan.store.monitor_inputs` builds the indicator frame.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.data import measures
from flowplan.errors import UsageError

CONFIG_FILE = "opel.toml"
SCORE_COLUMNS: tuple[str, ...] = (
    "date",
    "indicator",
    "name",
    "unit",
    "value",
    "band",
    "score",
    "weight",
    "points",
    "max_points",
    "reason",
)
LEVEL_COLUMNS: tuple[str, ...] = (
    "date",
    "level",
    "level_name",
    "score",
    "max_score",
    "score_pct",
    "indicators",
    "reasons",
)
EPISODE_COLUMNS: tuple[str, ...] = ("start", "end", "days", "level", "level_name")
SUMMARY_COLUMNS: tuple[str, ...] = ("level", "level_name", "days", "share_pct")

_FORBID = ConfigDict(extra="forbid", frozen=True)
_SLACK = 1e-9
"""Float noise ignored at a band edge (a computed 92.00000000000001 % is still on the 92 edge);
relative to the edge's magnitude. Not a tolerance on the threshold."""


# --- Configuration ------------------------------------------------------------------------------


class SeriesRef(BaseModel):
    """A stored series an indicator is read from.

    Attributes:
        measure: canonical measure name (``measures.csv``).
        breakdown: breakdown label ("all" by default).
    """

    model_config = _FORBID

    measure: str = Field(min_length=1)
    breakdown: str = Field(default="all", min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Self:
        if measures.get(self.measure) is None:
            raise ValueError(f"measure '{self.measure}' is not a measure in measures.csv")
        return self


class Indicator(BaseModel):
    """One escalation indicator: how its value is banded, scored and weighted.

    Attributes:
        id: identifier used in the indicator frame (``ga_occupancy``).
        name: human name.
        unit: unit of the value ("%", "minutes per handover", "patients").
        numerator: stored series of the numerator (the store adapter reads it).
        denominator: stored series of the denominator; None for a count indicator.
        scale: value = numerator ÷ denominator × scale (or numerator × scale).
        direction: ``higher_is_worse`` or ``lower_is_worse``.
        thresholds: band edges in the indicator's unit, strictly increasing.
        scores: score of each band, best band first (one more than the thresholds), not
            decreasing, not negative.
        weight: multiplier of the score (> 0).
        source: where the definition and thresholds come from.
    """

    model_config = _FORBID

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    numerator: SeriesRef | None = None
    denominator: SeriesRef | None = None
    scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    direction: Literal["higher_is_worse", "lower_is_worse"] = "higher_is_worse"
    thresholds: list[float] = Field(min_length=1)
    scores: list[float]
    weight: float = Field(gt=0, allow_inf_nan=False)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _bands(self) -> Self:
        if any(not math.isfinite(t) for t in self.thresholds):
            raise ValueError("thresholds must be finite numbers")
        if any(b <= a for a, b in pairwise(self.thresholds)):
            raise ValueError(f"thresholds must be strictly increasing (got {self.thresholds})")
        if len(self.scores) != len(self.thresholds) + 1:
            raise ValueError(
                f"scores needs one entry per band: {len(self.thresholds) + 1} for "
                f"{len(self.thresholds)} threshold(s) (got {len(self.scores)})"
            )
        if any(not math.isfinite(s) or s < 0 for s in self.scores):
            raise ValueError("scores must be finite numbers, zero or more")
        if any(b < a for a, b in pairwise(self.scores)):
            raise ValueError(f"scores must not decrease from the best band (got {self.scores})")
        if self.scores[-1] <= 0:
            raise ValueError("the worst band must score more than 0")
        if self.denominator is not None and self.numerator is None:
            raise ValueError("a denominator needs a numerator")
        return self

    @property
    def max_points(self) -> float:
        """Points of the worst band (weight × highest score)."""
        return self.weight * max(self.scores)


class Level(BaseModel):
    """One escalation level and where its score band starts.

    Attributes:
        level: 1, 2, … (consecutive from 1).
        name: display name ("OPEL 3").
        min_score_pct: lowest score_pct (0–100) at this level, inclusive.
        description: what the level means.
    """

    model_config = _FORBID

    level: int = Field(ge=1)
    name: str = Field(min_length=1)
    min_score_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    description: str = ""


class OpelConfig(BaseModel):
    """The escalation scheme: indicators and level bands (see the module docstring).

    Attributes:
        title: what the scheme is.
        version: version of the configuration.
        source: documents the scheme follows.
        min_indicators: fewest indicators with a value for a day to get a level.
        levels: level bands, level 1 first, starting at 0%.
        indicators: the indicators.
    """

    model_config = _FORBID

    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    min_indicators: int = Field(default=1, ge=1)
    levels: list[Level] = Field(min_length=2)
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        numbers = [lv.level for lv in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"levels must be numbered 1, 2, … in order (got {numbers})")
        if self.levels[0].min_score_pct != 0:
            raise ValueError("level 1 must start at min_score_pct 0")
        starts = [lv.min_score_pct for lv in self.levels]
        if any(b <= a for a, b in pairwise(starts)):
            raise ValueError(f"min_score_pct must increase with the level (got {starts})")
        ids = [i.id for i in self.indicators]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"indicator ids must be unique (repeated: {', '.join(repeated)})")
        if self.min_indicators > len(self.indicators):
            raise ValueError(
                f"min_indicators ({self.min_indicators}) exceeds the {len(ids)} indicator(s)"
            )
        return self

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator called ``indicator_id``.

        Raises:
            UsageError: no such indicator.
        """
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        known = ", ".join(i.id for i in self.indicators)
        raise UsageError(f"unknown escalation indicator {indicator_id!r} (configured: {known})")

    def level_name(self, level: int) -> str:
        """Display name of ``level`` ("OPEL 2")."""
        return self.levels[level - 1].name


def parse_config(data: dict[str, object], where: str = CONFIG_FILE) -> OpelConfig:
    """A validated escalation configuration from parsed TOML.

    Args:
        data: the TOML document as a dict.
        where: file name for messages.

    Returns:
        The configuration.

    Raises:
        UsageError: one line per broken rule, naming the field.
    """
    try:
        return OpelConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{where}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise UsageError("\n".join(lines)) from None


def load_config(path: str | Path | None = None) -> OpelConfig:
    """The escalation configuration: the packaged ``opel.toml``, or the file at ``path``.

    Raises:
        UsageError: unreadable file, bad TOML or a broken rule.
    """
    if path is None:
        return _packaged()
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{file}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{file}: not valid TOML ({exc})") from None
    return parse_config(data, str(file))


@cache
def _packaged() -> OpelConfig:
    text = resources.files("flowplan.monitor").joinpath(CONFIG_FILE).read_text(encoding="utf-8")
    return parse_config(tomllib.loads(text))


# --- Banding ------------------------------------------------------------------------------------


def band_of(indicator: Indicator, value: float) -> int:
    """The band (1 = best) ``value`` falls in; a value on an edge is in the worse band.

    Args:
        indicator: the indicator with its thresholds and direction.
        value: a finite value in the indicator's unit.

    Returns:
        1 … len(thresholds) + 1.
    """
    edges = indicator.thresholds
    if indicator.direction == "higher_is_worse":
        return 1 + sum(1 for t in edges if value >= t - _SLACK * max(1.0, abs(t)))
    return 1 + sum(1 for t in edges if value <= t + _SLACK * max(1.0, abs(t)))


def _fmt(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _edges_text(indicator: Indicator, band: int) -> str:
    """The band's range in words ("≥ 92 and < 95")."""
    t = indicator.thresholds
    if indicator.direction == "higher_is_worse":
        low = t[band - 2] if band >= 2 else None
        high = t[band - 1] if band <= len(t) else None
        parts = ([f"≥ {_fmt(low)}"] if low is not None else []) + (
            [f"< {_fmt(high)}"] if high is not None else []
        )
    else:
        rev = band - 1  # band 1 is above the top edge
        high = t[len(t) - rev] if rev >= 1 else None
        low = t[len(t) - rev - 1] if rev < len(t) else None
        parts = ([f"≤ {_fmt(high)}"] if high is not None else []) + (
            [f"> {_fmt(low)}"] if low is not None else []
        )
    return " and ".join(parts)


def reason_text(indicator: Indicator, value: float | None) -> str:
    """One line saying an indicator's value, band, score and points.

    Example: ``G&A bed occupancy 93.5 % → band 3 of 4 (≥ 92 and < 95): score 2 × weight 3 =
    6 points``; without a value: ``G&A bed occupancy: no data``.
    """
    if value is None or not math.isfinite(value):
        return f"{indicator.name}: no data"
    band = band_of(indicator, value)
    score = indicator.scores[band - 1]
    return (
        f"{indicator.name} {_fmt(value)} {indicator.unit} → band {band} of "
        f"{len(indicator.scores)} ({_edges_text(indicator, band)}): score {_fmt(score)} × "
        f"weight {_fmt(indicator.weight)} = {_fmt(score * indicator.weight)} points"
    )


# --- Engine -------------------------------------------------------------------------------------


def _checked(indicators: object, config: OpelConfig) -> pd.DataFrame:
    """The indicator frame with dates, known ids and numbers checked; blanks dropped."""
    if not isinstance(indicators, pd.DataFrame):
        raise UsageError(
            f"indicators must be a DataFrame with columns date, indicator, value "
            f"(got {type(indicators).__name__})"
        )
    missing = [c for c in ("date", "indicator", "value") if c not in indicators.columns]
    if missing:
        raise UsageError(
            f"indicators needs columns date, indicator and value (missing {', '.join(missing)})"
        )
    try:
        dates = pd.to_datetime(indicators["date"])
    except (ValueError, TypeError) as exc:
        raise UsageError(f"indicators date must hold dates ({exc})") from None
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        raise UsageError("indicators date must be naive dates without a time zone")
    if dates.isna().any():
        raise UsageError("indicators date must not be blank")
    dates = dates.dt.normalize().astype("datetime64[ns]")
    ids = indicators["indicator"].astype(str)
    known = {i.id for i in config.indicators}
    unknown = sorted(set(ids) - known)
    if unknown:
        raise UsageError(
            f"unknown escalation indicator(s) {', '.join(repr(u) for u in unknown)} "
            f"(configured: {', '.join(sorted(known))})"
        )
    raw = indicators["value"]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    unreadable = values.isna() & raw.notna()
    if unreadable.any():
        raise UsageError(f"indicators value must be a number (got {raw[unreadable].iloc[0]!r})")
    if np.isinf(values.to_numpy()).any():
        raise UsageError("indicators value must be finite")
    frame = pd.DataFrame(
        {"date": dates.to_numpy(), "indicator": ids.to_numpy(), "value": values.to_numpy()}
    ).dropna(subset=["value"])
    dup = frame.duplicated(["date", "indicator"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise UsageError(
            f"indicators has more than one value of {row['indicator']} on "
            f"{pd.Timestamp(row['date']).date().isoformat()}"
        )
    return frame.sort_values(["date", "indicator"]).reset_index(drop=True)


def opel_scores(indicators: pd.DataFrame, config: OpelConfig | None = None) -> pd.DataFrame:
    """Band, score and points of every indicator value.

    Args:
        indicators: columns ``date``, ``indicator``, ``value`` (see the module docstring).
        config: the scheme (default: the packaged ``opel.toml``).

    Returns:
        One row per date and indicator with a value, sorted, columns :data:`SCORE_COLUMNS`.

    Raises:
        UsageError: missing columns, unreadable dates or numbers, unknown indicator ids, or a
            repeated date and indicator.
    """
    cfg = config if config is not None else load_config()
    frame = _checked(indicators, cfg)
    rows: list[dict[str, object]] = []
    for day, ind_id, value in frame.itertuples(index=False):
        ind = cfg.indicator(str(ind_id))
        band = band_of(ind, float(value))
        score = ind.scores[band - 1]
        rows.append(
            {
                "date": day,
                "indicator": ind.id,
                "name": ind.name,
                "unit": ind.unit,
                "value": float(value),
                "band": band,
                "score": float(score),
                "weight": ind.weight,
                "points": score * ind.weight,
                "max_points": ind.max_points,
                "reason": reason_text(ind, float(value)),
            }
        )
    out = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["band"] = out["band"].astype("int64")
    for col in ("value", "score", "weight", "points", "max_points"):
        out[col] = out[col].astype("float64")
    return out


def level_of(score_pct: float, config: OpelConfig) -> int:
    """The level whose band holds ``score_pct`` (0–100); the band's lower edge is inclusive."""
    level = 1
    for lv in config.levels:
        if score_pct >= lv.min_score_pct - _SLACK * max(1.0, lv.min_score_pct):
            level = lv.level
    return level


def opel_levels(indicators: pd.DataFrame, config: OpelConfig | None = None) -> pd.DataFrame:
    """The escalation level of each day, with its score and the reasons.

    Args:
        indicators: columns ``date``, ``indicator``, ``value``: one value per day and indicator
            (ids from the config; blank = no data).
        config: the scheme (default: the packaged ``opel.toml``).

    Returns:
        One row per day with at least one indicator value, sorted, columns
        :data:`LEVEL_COLUMNS`: ``level`` (Int64; ``<NA>`` with fewer than ``min_indicators``
        values), ``level_name`` ("" where no level), ``score`` (points), ``max_score`` (points
        possible from the indicators with a value), ``score_pct`` (score ÷ max_score × 100),
        ``indicators`` (count with a value), ``reasons`` (one line per configured indicator,
        most points first, "no data" last).

    Raises:
        UsageError: as :func:`opel_scores`.
    """
    cfg = config if config is not None else load_config()
    scores = opel_scores(indicators, cfg)
    order = {ind.id: i for i, ind in enumerate(cfg.indicators)}
    rows: list[dict[str, object]] = []
    for day, group in scores.groupby("date", sort=True):
        have = set(group["indicator"])
        score = float(group["points"].sum())
        max_score = float(group["max_points"].sum())
        pct = score / max_score * 100.0 if max_score > 0 else 0.0
        enough = len(have) >= cfg.min_indicators
        level: int | None = level_of(pct, cfg) if enough else None
        ranked = group.assign(_o=group["indicator"].map(order)).sort_values(
            ["points", "_o"], ascending=[False, True]
        )
        reasons = [str(r) for r in ranked["reason"]]
        reasons += [reason_text(ind, None) for ind in cfg.indicators if ind.id not in have]
        if not enough:
            reasons.append(
                f"no level: {len(have)} indicator(s) with data, fewer than the "
                f"{cfg.min_indicators} required"
            )
        rows.append(
            {
                "date": day,
                "level": level,
                "level_name": cfg.level_name(level) if level is not None else "",
                "score": score,
                "max_score": max_score,
                "score_pct": pct,
                "indicators": len(have),
                "reasons": reasons,
            }
        )
    out = pd.DataFrame(rows, columns=list(LEVEL_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["level"] = pd.array(out["level"].tolist(), dtype="Int64")
    for col in ("score", "max_score", "score_pct"):
        out[col] = out[col].astype("float64")
    out["indicators"] = out["indicators"].astype("int64")
    return out


def level_summary(levels: pd.DataFrame, config: OpelConfig | None = None) -> pd.DataFrame:
    """Days at each level in a history from :func:`opel_levels`.

    Returns:
        One row per configured level (zero days included), columns :data:`SUMMARY_COLUMNS`:
        ``days`` and ``share_pct`` (of the days with a level).
    """
    cfg = config if config is not None else load_config()
    graded = levels["level"].dropna().astype("int64")
    total = len(graded)
    rows = []
    for lv in cfg.levels:
        days = int((graded == lv.level).sum())
        rows.append(
            {
                "level": lv.level,
                "level_name": lv.name,
                "days": days,
                "share_pct": days / total * 100.0 if total else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def episodes(levels: pd.DataFrame, config: OpelConfig | None = None) -> pd.DataFrame:
    """Runs of consecutive days at the same level (a gap of a day or a change of level ends one).

    Returns:
        Columns :data:`EPISODE_COLUMNS`, in date order; days without a level are left out.
    """
    cfg = config if config is not None else load_config()
    graded = levels.dropna(subset=["level"]).sort_values("date")
    rows: list[dict[str, object]] = []
    start: pd.Timestamp | None = None
    prev_day: pd.Timestamp | None = None
    prev_level = 0
    days = 0
    for day, level in zip(graded["date"], graded["level"].astype("int64"), strict=True):
        stamp = pd.Timestamp(day)
        if (
            start is not None
            and prev_day is not None
            and int(level) == prev_level
            and stamp - prev_day == pd.Timedelta(days=1)
        ):
            days += 1
        else:
            if start is not None and prev_day is not None:
                rows.append(_episode(start, prev_day, days, prev_level, cfg))
            start, days = stamp, 1
        prev_day, prev_level = stamp, int(level)
    if start is not None and prev_day is not None:
        rows.append(_episode(start, prev_day, days, prev_level, cfg))
    return pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))


def _episode(
    start: pd.Timestamp, end: pd.Timestamp, days: int, level: int, cfg: OpelConfig
) -> dict[str, object]:
    return {
        "start": start,
        "end": end,
        "days": days,
        "level": level,
        "level_name": cfg.level_name(level),
    }


def indicator_frame(values: Sequence[tuple[object, str, float | None]]) -> pd.DataFrame:
    """An indicator frame from ``(date, indicator, value)`` triples (a convenience for callers).

    Returns:
        Columns ``date`` (naive ``datetime64[ns]``), ``indicator``, ``value`` (float; NaN for
        None).
    """
    frame = pd.DataFrame(list(values), columns=["date", "indicator", "value"])
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
    return frame
