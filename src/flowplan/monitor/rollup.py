"""Roll-ups from organisations to footprints: sum numerators and denominators, then divide.

A footprint's rate is **never** the mean of its members' rates. Two trusts with 270 of 300 (90%)
and 2,610 of 2,700 (96.7%) patients seen within 4 hours have a footprint value of
(270 + 2,610) ÷ (300 + 2,700) = 96%, not the 93.3% mean of the two percentages: the mean gives the
small trust nine times its share of the patients.

Input frame (one row per organisation and period, and breakdown where there is one):

* ``org``: organisation code;
* ``period_start``: naive dates (any grain, as long as members share it);
* ``numerator`` and ``denominator``: in the metric's numerator and denominator units (a count
  metric has denominator 1 per row, which then counts the reporting members; give a
  ``denominator`` of 1 and ``scale`` 1 to sum counts);
* ``breakdown`` (optional): a cut such as a deprivation decile or ethnic group; the roll-up keeps
  it, so a footprint gets one row per period and breakdown.

Output: ``footprint``, ``period_start``, [``breakdown``,] ``numerator``, ``denominator``,
``value`` (the footprint's rate), ``mean_of_member_values`` (the wrong answer, shown for
comparison), ``orgs_reporting``, ``orgs_expected`` and ``missing`` (members without a row, comma
separated). ``value`` uses :func:`flowplan.metrics.compute.compute` with the metric's
definition when one is given (complement, scale, period rule, as ``compute_series`` does), else
numerator ÷ denominator × ``scale``; a summed denominator of 0 gives NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.errors import UsageError
from flowplan.metrics.compute import compute
from flowplan.metrics.registry import MetricDefinition

ROLLUP_COLUMNS: tuple[str, ...] = (
    "footprint",
    "period_start",
    "numerator",
    "denominator",
    "value",
    "mean_of_member_values",
    "orgs_reporting",
    "orgs_expected",
    "missing",
)


def _checked(values: object) -> pd.DataFrame:
    if not isinstance(values, pd.DataFrame):
        raise UsageError(
            "values must be a DataFrame with columns org, period_start, numerator, denominator "
            f"(got {type(values).__name__})"
        )
    needed = ("org", "period_start", "numerator", "denominator")
    missing = [c for c in needed if c not in values.columns]
    if missing:
        raise UsageError(f"values needs columns {', '.join(needed)} (missing {', '.join(missing)})")
    frame = values.copy()
    try:
        frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ns]")
    except (ValueError, TypeError) as exc:
        raise UsageError(f"values period_start must hold dates ({exc})") from None
    for col in ("numerator", "denominator"):
        raw = frame[col]
        num = pd.to_numeric(raw, errors="coerce").astype("float64")
        if (num.isna() & raw.notna()).any() or np.isinf(num.to_numpy()).any():
            bad = raw[(num.isna() & raw.notna()) | np.isinf(num.to_numpy())].iloc[0]
            raise UsageError(f"values {col} must be a finite number (got {bad!r})")
        frame[col] = num
    frame["org"] = frame["org"].astype(str)
    keys = ["org", "period_start", *(["breakdown"] if "breakdown" in frame.columns else [])]
    dup = frame.duplicated(keys)
    if dup.any():
        row = frame[dup].iloc[0]
        raise UsageError(
            f"values has more than one row for {row['org']} "
            f"{pd.Timestamp(row['period_start']).date().isoformat()}"
        )
    return frame.dropna(subset=["numerator", "denominator"])


def _value(
    num: pd.Series, den: pd.Series, defn: MetricDefinition | None, scale: float
) -> npt.NDArray[np.float64]:
    """Rate per row: the metric's own rule when defined, else num ÷ den × scale (NaN at 0)."""
    n = num.to_numpy(dtype=np.float64)
    d = den.to_numpy(dtype=np.float64)
    if defn is not None:
        # as compute_series: a monthly row of an "average per month" metric covers one month
        months = 1 if defn.period_rule == "average_per_month" else None
        return np.array(
            [
                compute(defn, float(a), float(b), months=months) if b != 0 else np.nan
                for a, b in zip(n, d, strict=True)
            ],
            dtype=np.float64,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(d != 0, n / d * scale, np.nan)
    return np.asarray(out, dtype=np.float64)


def rollup(
    values: pd.DataFrame,
    members: Mapping[str, Sequence[str]],
    *,
    defn: MetricDefinition | None = None,
    scale: float = 1.0,
    complete: bool = False,
) -> pd.DataFrame:
    """Footprint values from member organisations' numerators and denominators.

    Args:
        values: columns ``org``, ``period_start``, ``numerator``, ``denominator`` and optionally
            ``breakdown`` (see the module docstring); rows with a blank are left out.
        members: footprint code → member organisation codes. An organisation may belong to
            several footprints; rows of organisations in no footprint are ignored.
        defn: the metric, to compute the value by its own rule (complement, scale, per-month);
            when None the value is numerator ÷ denominator × ``scale``.
        scale: multiplier when there is no ``defn`` (100 for a percentage).
        complete: keep only periods in which every member reported (else every period with at
            least one member, with ``orgs_reporting`` and ``missing`` saying who is in).

    Returns:
        Columns :data:`ROLLUP_COLUMNS` (``breakdown`` after ``period_start`` when the input has
        it), sorted by footprint, period and breakdown. ``value`` is NaN where the summed
        denominator is 0 (without ``defn``).

    Raises:
        UsageError: missing columns, unreadable dates or numbers, a repeated org and period, a
            or a footprint with no members.
    """
    frame = _checked(values)
    has_breakdown = "breakdown" in frame.columns
    keys = ["period_start", *(["breakdown"] if has_breakdown else [])]
    columns = list(ROLLUP_COLUMNS)
    if has_breakdown:
        columns.insert(2, "breakdown")
    frame["member_value"] = _value(frame["numerator"], frame["denominator"], defn, scale)
    parts: list[pd.DataFrame] = []
    for code, orgs in members.items():
        expected = sorted(dict.fromkeys(str(o) for o in orgs))
        if not expected:
            raise UsageError(f"footprint {code} has no members")
        part = frame[frame["org"].isin(expected)]
        if part.empty:
            continue
        grouped = part.groupby(keys, sort=True, dropna=False)
        summed = grouped[["numerator", "denominator"]].sum()
        reporting = grouped["org"].agg(lambda s: sorted(set(s)))
        out = summed.reset_index()
        out["orgs_reporting"] = [len(r) for r in reporting]
        out["orgs_expected"] = len(expected)
        out["missing"] = [", ".join(o for o in expected if o not in r) for r in reporting]
        means = part.groupby(keys, sort=True, dropna=False)["member_value"].mean()
        out["mean_of_member_values"] = means.to_numpy()
        if complete:
            out = out[out["orgs_reporting"] == len(expected)]
        if out.empty:
            continue
        out["value"] = _value(out["numerator"], out["denominator"], defn, scale)
        out["footprint"] = code
        parts.append(out[columns])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    result = pd.concat(parts, ignore_index=True)
    result["orgs_reporting"] = result["orgs_reporting"].astype("int64")
    result["orgs_expected"] = result["orgs_expected"].astype("int64")
    return result.sort_values(["footprint", *keys]).reset_index(drop=True)


def by_breakdown(values: pd.DataFrame, *, scale: float = 1.0) -> pd.DataFrame:
    """One organisation's (or footprint's) rate by breakdown and period, from summed parts.

    Use it for equality cuts (deprivation decile, ethnic group) when the data carries them: each
    breakdown's rate is its own numerator ÷ denominator, and the ``all`` row is rebuilt from the
    sums, never from the mean of the breakdowns' rates.

    Args:
        values: columns ``period_start``, ``breakdown``, ``numerator``, ``denominator``.
        scale: multiplier (100 for a percentage).

    Returns:
        Columns ``period_start``, ``breakdown``, ``numerator``, ``denominator``, ``value``, with
        an extra ``breakdown = "all (sum)"`` row per period.

    Raises:
        UsageError: missing columns or unreadable numbers.
    """
    needed = ("period_start", "breakdown", "numerator", "denominator")
    missing = [c for c in needed if c not in values.columns]
    if missing:
        raise UsageError(f"values needs columns {', '.join(needed)} (missing {', '.join(missing)})")
    frame = _checked(values.assign(org="_"))
    parts = frame[list(needed)]
    total = (
        parts.groupby("period_start", sort=True)[["numerator", "denominator"]].sum().reset_index()
    )
    total["breakdown"] = "all (sum)"
    out = pd.concat([parts, total[list(needed)]], ignore_index=True)
    out["value"] = _value(out["numerator"], out["denominator"], None, scale)
    return out.sort_values(["period_start", "breakdown"]).reset_index(drop=True)
