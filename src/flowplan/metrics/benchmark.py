"""Benchmarking one organisation against its peers: the spine chart row and the ambition rule
(DOMAIN §3.3–3.4).

A spine chart row places an organisation's value among its peers' values for one indicator:
national value, median, 25th and 75th percentiles, minimum and maximum, the organisation's
variance from the national value, its rank of N peers and its ambition.

Choices, each stated where it is used:

* **Quartiles** are numpy's ``method="linear"`` percentiles, which is Hyndman & Fan (1996)
  definition 7, R's default ``quantile(type = 7)`` and Excel's ``QUARTILE.INC``: the p-th
  percentile of n sorted values sits at 0-based position ``(n − 1) × p / 100``, interpolated
  linearly between neighbours.
* **National value**: the national rate is national numerator ÷ national denominator (× scale),
  which is *not* the mean (nor the median) of the organisations' rates; the caller computes it
  and passes ``national``. When it is not given the peer median stands in, and the row says so
  (``national_source = "median"``).
* **Rank**: 1 = best, direction-aware; tied values share the best rank of the tie (competition
  ranking "1224"), ties being exact equality. Neutral metrics have no best, so no rank.
* **Percentile** (of a directional metric): the share of the *other* peers the organisation is at
  least as good as, ``(n − rank) ÷ (n − 1) × 100``: 100 for the best, 0 for the sole worst.
* **Ambition rule** (seen in the 2014/15 planning drafts): worse than the national value → reach
  the national value; at or better than it → reach the next quartile edge in the better
  direction; already in the best quartile → hold the current value. The drafts name no step
  beyond the top quartile, so none is invented here; a caller with a local stretch passes its own
  ``ambition`` to ``spine``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd

from flowplan.errors import UsageError
from flowplan.metrics.checks import finite, got

DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better", "neutral")

QUARTILE_METHOD: Final = "linear"
"""numpy percentile method for the quartiles: Hyndman & Fan type 7 (R's default, Excel
QUARTILE.INC)."""

MIN_PEERS = 2
"""Fewest organisations with a value (the organisation included) a spine row is built from."""


def _direction(value: object) -> str:
    """A metric direction: higher_is_better, lower_is_better or neutral."""
    if not isinstance(value, str) or value not in DIRECTIONS:
        options = ", ".join(repr(d) for d in DIRECTIONS)
        raise UsageError(f"direction must be one of {options} (got {got(value)})")
    return value


def _num(value: float) -> str:
    """A value shown in a reason, to six significant figures."""
    return f"{value:.6g}"


# --- ambition rule --------------------------------------------------------------------------


def ambition(
    value: float,
    national: float,
    q25: float,
    q75: float,
    direction: str,
    quartile_edges: Sequence[float] | None = None,
) -> tuple[float, str]:
    """The ambition for an organisation by the rule "below national → national, else next
    quartile" (DOMAIN §3.3).

    Higher is better: a value below ``national`` gets ``national``; a value at or above it gets
    the smallest quartile edge strictly above the value; a value at or above ``q75`` (the top
    quartile) keeps its current value. Lower is better is the mirror: above ``national`` →
    ``national``; at or below it → the largest edge strictly below the value; at or below
    ``q25`` → keep the current value. The national check comes first, so a value in the top
    quartile but worse than a national value beyond the quartile still gets the national value.

    Args:
        value: the organisation's value (metric units).
        national: the national value (national numerator ÷ denominator; metric units).
        q25: the peers' 25th percentile.
        q75: the peers' 75th percentile.
        direction: ``"higher_is_better"`` or ``"lower_is_better"``; neutral has no ambition.
        quartile_edges: the edges to step through, normally ``(q25, median, q75)``; q25 and q75
            are always included, so the default ``None`` steps through q25 and q75 only. A
            single edge between them is named "the median" in the reason.

    Returns:
        The ambition (metric units) and a one-line reason.

    Raises:
        UsageError: for a neutral or unknown direction, non-finite numbers, q25 > q75, or an edge
            outside [q25, q75].
    """
    direction_ = _direction(direction)
    if direction_ == "neutral":
        raise UsageError(
            "ambition needs direction 'higher_is_better' or 'lower_is_better' "
            "(a neutral metric has no better side)"
        )
    v = finite("value", value)
    nat = finite("national", national)
    lo = finite("q25", q25)
    hi = finite("q75", q75)
    if lo > hi:
        raise UsageError(f"q25 must not exceed q75 (got q25 {_num(lo)} > q75 {_num(hi)})")
    extra: list[float] = []
    if quartile_edges is not None:
        if isinstance(quartile_edges, str | bytes) or not isinstance(quartile_edges, Sequence):
            raise UsageError(
                f"quartile_edges must be a list of numbers such as (q25, median, q75) "
                f"(got {got(quartile_edges)})"
            )
        for edge in quartile_edges:
            e = finite("quartile edge", edge)
            if not lo <= e <= hi:
                raise UsageError(
                    f"quartile edges must lie between q25 {_num(lo)} and q75 {_num(hi)} "
                    f"(got {_num(e)})"
                )
            extra.append(e)
    edges = sorted({lo, hi, *extra})

    def label(edge: float) -> str:
        named = [(hi, "the 75th percentile"), (lo, "the 25th percentile")]
        if direction_ == "lower_is_better":
            named.reverse()
        interior = "the median" if len(edges) == 3 else "the quartile edge"
        name = next((text for at, text in named if edge == at), interior)
        return f"{name} {_num(edge)}"

    if direction_ == "higher_is_better":
        if v < nat:
            return nat, (
                f"below the national value {_num(nat)} (higher is better): reach the national value"
            )
        if v >= hi:
            return v, (
                f"in the top quartile (at or above the 75th percentile {_num(hi)}): "
                f"hold the current value {_num(v)}"
            )
        target = min(e for e in edges if e > v)
        return target, (
            f"at or above the national value {_num(nat)}: reach the next quartile edge up, "
            f"{label(target)}"
        )
    if v > nat:
        return nat, (
            f"above the national value {_num(nat)} (lower is better): reach the national value"
        )
    if v <= lo:
        return v, (
            f"in the best quartile (at or below the 25th percentile {_num(lo)}): "
            f"hold the current value {_num(v)}"
        )
    target = max(e for e in edges if e < v)
    return target, (
        f"at or below the national value {_num(nat)}: reach the next quartile edge down, "
        f"{label(target)}"
    )


_ambition_rule = ambition  # ``spine`` has a parameter of the same name


# --- spine chart ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SpineRow:
    """One organisation on one indicator's spine chart (all values in the metric's units).

    Attributes:
        org: the organisation's code.
        value: its value.
        national: the national value as given, or the peer median when none was given.
        national_source: ``"given"`` or ``"median"`` (the median stood in for it).
        median: the peers' median.
        q25: the peers' 25th percentile (type 7).
        q75: the peers' 75th percentile (type 7).
        minimum: the lowest peer value.
        maximum: the highest peer value.
        n: peers with a value, the organisation included.
        variance_pct: (value − national) ÷ |national| × 100, in percent (NaN when national is 0);
            for the positive national values of rates and percentages this is ÷ national.
        rank: 1 = best of ``n`` (ties share the best rank); None for a neutral metric.
        percentile: share of the other peers it is at least as good as, 0–100; None for neutral.
        ambition: the ambition (given, or by the rule); None for a neutral metric with none given.
        ambition_reason: one line saying where the ambition came from.
        direction: the metric's direction.
    """

    org: str
    value: float
    national: float
    national_source: Literal["given", "median"]
    median: float
    q25: float
    q75: float
    minimum: float
    maximum: float
    n: int
    variance_pct: float
    rank: int | None
    percentile: float | None
    ambition: float | None
    ambition_reason: str
    direction: str


def _peers(values: object) -> tuple[dict[str, float], set[str]]:
    """Org code → finite value, and the codes whose value is blank (left out of the peers)."""
    if isinstance(values, pd.Series):
        if not values.index.is_unique:
            repeated = values.index[values.index.duplicated()][0]
            raise UsageError(
                f"values has more than one value for org {got(repeated)}; give one per organisation"
            )
        items = list(values.items())
    elif isinstance(values, Mapping):
        items = list(values.items())
    else:
        raise UsageError(
            f"values must be a mapping or Series of org code → value (got {type(values).__name__})"
        )
    out: dict[str, float] = {}
    blank: set[str] = set()
    for code, raw in items:
        if not isinstance(code, str) or code == "":
            raise UsageError(f"org codes in values must be non-empty text (got {got(code)})")
        if raw is None or raw is pd.NA or raw is pd.NaT:
            blank.add(code)
            continue
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            raise UsageError(f"value for org {code!r} must be a number (got {got(raw)})")
        x = float(raw)
        if math.isnan(x):
            blank.add(code)
        elif math.isinf(x):
            raise UsageError(f"value for org {code!r} must be a finite number (got {got(raw)})")
        else:
            out[code] = x
    return out, blank


def spine(
    values: Mapping[str, float] | pd.Series,
    org: str,
    *,
    direction: str,
    national: float | None = None,
    ambition: float | None = None,
) -> SpineRow:
    """Spine chart row for ``org`` among ``values``.

    Peers whose value is blank (None or NaN, e.g. suppressed small numbers) are left out of every
    statistic and of ``n``.

    Args:
        values: org code → value for every peer, ``org`` included (metric units).
        org: the organisation to place.
        direction: ``"higher_is_better"``, ``"lower_is_better"`` or ``"neutral"``.
        national: the national value, computed by the caller from the national numerator and
            denominator (not an average of the organisations' rates); None → the peer median
            stands in and ``national_source`` says ``"median"``.
        ambition: the organisation's ambition if already agreed; None → by the rule in
            ``ambition()`` against the national value (or median) and (q25, median, q75); a
            neutral metric gets none.

    Returns:
        A ``SpineRow``.

    Raises:
        UsageError: on an unknown direction, bad org codes or values, ``org`` missing or blank,
            fewer than 2 peers with values, or a non-finite national value or ambition.
    """
    direction_ = _direction(direction)
    peers, blank = _peers(values)
    if org in blank:
        raise UsageError(f"org {org!r} has no value; give it a value to place it on the spine")
    if org not in peers:
        raise UsageError(f"org {org!r} is not among the values; add its value")
    if len(peers) < MIN_PEERS:
        raise UsageError(
            f"a spine needs values for at least {MIN_PEERS} organisations (got {len(peers)})"
        )
    arr = np.fromiter(peers.values(), dtype=np.float64, count=len(peers))
    q25, median, q75 = (
        float(q) for q in np.percentile(arr, np.array([25.0, 50.0, 75.0]), method=QUARTILE_METHOD)
    )
    value = peers[org]
    n = len(peers)

    source: Literal["given", "median"]
    if national is None:
        nat, source = median, "median"
    else:
        nat, source = finite("national", national), "given"
    variance_pct = (value - nat) / abs(nat) * 100.0 if nat != 0 else math.nan

    rank: int | None
    percentile: float | None
    if direction_ == "higher_is_better":
        rank = 1 + int(np.count_nonzero(arr > value))
    elif direction_ == "lower_is_better":
        rank = 1 + int(np.count_nonzero(arr < value))
    else:
        rank = None
    percentile = None if rank is None else (n - rank) / (n - 1) * 100.0

    goal: float | None
    if ambition is not None:
        goal, reason = finite("ambition", ambition), "given"
    elif direction_ == "neutral":
        goal, reason = None, "none: a neutral metric has no better side"
    else:
        goal, reason = _ambition_rule(value, nat, q25, q75, direction_, (q25, median, q75))
        if source == "median":
            reason += " (no national value given: the peer median stands in)"

    return SpineRow(
        org=org,
        value=value,
        national=nat,
        national_source=source,
        median=median,
        q25=q25,
        q75=q75,
        minimum=float(arr.min()),
        maximum=float(arr.max()),
        n=n,
        variance_pct=variance_pct,
        rank=rank,
        percentile=percentile,
        ambition=goal,
        ambition_reason=reason,
        direction=direction_,
    )
