"""Metric registry: every metric flowplan knows, defined as data in packaged TOML files.

Each family of metrics lives in one file under ``flowplan/metrics/definitions/`` (for example
``constitution.toml`` for the NHS Constitution standards). A file looks like::

    family = "constitution"                 # prefix of every id in the file
    version = "2014-19.1"                   # version of the definitions in this file
    title = "NHS Constitution standards"    # what the family is
    source = "Everyone Counts ..., Annex B" # optional: default ``source`` of the metrics below

    [[metrics]]
    id = "constitution.ae_4h"
    name = "A&E: 4 hours from arrival to admission, transfer or discharge"
    description = "..."
    unit = "%"
    numerator = "..."                       # text definition
    denominator = "..."                     # text definition
    numerator_measure = "ae_breaches_4h"    # optional: stored measure (measures.csv)
    denominator_measure = "ae_attendances"
    complement = true                       # value = scale × (1 − numerator ÷ denominator)
    scale = 100
    direction = "higher_is_better"
    standard = 95                           # optional threshold, in ``unit``
    standard_text = "95% within 4 hours"
    grain = "month"

Every field of :class:`MetricDefinition` other than ``family`` and ``version`` (which come from
the file) may appear in a ``[[metrics]]`` table; fields with defaults may be left out. Policy
numbers (standards, thresholds) live only in these files, never in code.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.data import measures
from flowplan.errors import UsageError

Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
PeriodRule = Literal["none", "average_per_month", "annual"]
MetricGrain = Literal["day", "week", "month", "quarter", "year"]

METRIC_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
FAMILY_PATTERN = r"^[a-z][a-z0-9_]*$"
CUSTOM_ID = "custom"
"""Metric id of a ratio that is not in the registry (the caller gives the scale)."""

_FILE_KEYS = frozenset({"family", "version", "title", "source", "metrics"})
_FROM_FILE = frozenset({"family", "version"})
_CLOSE_MATCHES = 3
_CLOSE_CUTOFF = 0.6


class MetricDefinition(BaseModel):
    """One metric: value = numerator ÷ denominator × scale, with its period rule and standard.

    Attributes:
        id: dotted identifier, family first (``constitution.ae_4h``, ``bcf.delayed_transfers``).
        name: short human name.
        description: what the metric tells a planner, and any caveat.
        family: the file (family) it belongs to; the first part of ``id``.
        source: document and annex/section that defines it.
        unit: unit of the value ("%", "per 100,000 population 65+", "count", "minutes", ...).
        numerator: text definition of the numerator (with its own unit).
        denominator: text definition of the denominator; counts use "1".
        numerator_measure: stored measure (``measures.csv``) that provides the numerator, if any.
        numerator_breakdown: breakdown of ``numerator_measure``; "all" when the measure is given
            without one; None exactly when there is no measure.
        denominator_measure: stored measure that provides the denominator, if any.
        denominator_breakdown: breakdown of ``denominator_measure`` (as for the numerator).
        complement: when true the value is scale × (1 − numerator ÷ denominator), e.g. the A&E
            4-hour % = 100 × (1 − breaches ÷ attendances).
        scale: multiplier of the ratio (1, 100 for %, 100,000 for rates per 100,000, ...).
        period_rule: "none" (a ratio of same-period quantities), "average_per_month" (value =
            numerator ÷ denominator × scale ÷ months covered) or "annual" (value = numerator ÷
            denominator × scale × 12 ÷ months covered, i.e. annualised; months defaults to 12).
        default_months: months the numerator covers when the caller does not say (12 for annual
            figures); None for "none" metrics and for averages whose period must be given.
        direction: which way is better.
        standard: threshold in ``unit`` (met when the value is at or above it for
            higher-is-better metrics, at or below it for lower-is-better ones); None if none set.
        standard_text: the standard in words, or why there is none.
        grain: period at which the metric is usually published.
        version: version of the definitions file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: str = Field(pattern=METRIC_ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    family: str = Field(pattern=FAMILY_PATTERN)
    source: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    numerator: str = Field(min_length=1)
    denominator: str = Field(min_length=1)
    numerator_measure: str | None = None
    numerator_breakdown: str | None = None
    denominator_measure: str | None = None
    denominator_breakdown: str | None = None
    complement: bool = False
    scale: float = Field(gt=0, allow_inf_nan=False)
    period_rule: PeriodRule = "none"
    default_months: int | None = Field(default=None, gt=0)
    direction: Direction
    standard: float | None = Field(default=None, allow_inf_nan=False)
    standard_text: str = ""
    grain: MetricGrain
    version: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_breakdowns(cls, data: Any) -> Any:
        """A measure given without a breakdown means its "all" breakdown."""
        if isinstance(data, dict):
            data = dict(data)
            for side in ("numerator", "denominator"):
                if (
                    data.get(f"{side}_measure") is not None
                    and data.get(f"{side}_breakdown") is None
                ):
                    data[f"{side}_breakdown"] = "all"
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Cross-field rules: id prefix, measures, period rule and standard."""
        if not self.id.startswith(f"{self.family}."):
            raise ValueError(f"id '{self.id}' must start with its family '{self.family}.'")
        for side in ("numerator", "denominator"):
            measure = getattr(self, f"{side}_measure")
            if measure is None and getattr(self, f"{side}_breakdown") is not None:
                raise ValueError(f"{side}_breakdown needs {side}_measure")
            if measure is not None and measures.get(measure) is None:
                raise ValueError(f"{side}_measure '{measure}' is not a measure in measures.csv")
        if self.complement and self.period_rule != "none":
            raise ValueError("complement needs period_rule 'none'")
        if self.period_rule == "none" and self.default_months is not None:
            raise ValueError("default_months only applies to 'average_per_month' or 'annual'")
        if self.period_rule == "annual" and self.default_months is None:
            raise ValueError("an 'annual' metric needs default_months (usually 12)")
        if self.standard is not None and self.direction == "neutral":
            raise ValueError("a standard needs a direction other than 'neutral'")
        if self.standard is not None and not self.standard_text:
            raise ValueError("standard_text must say what the standard is")
        return self


def parse_definitions(name: str, text: str) -> list[MetricDefinition]:
    """The metrics of one definitions file.

    Args:
        name: file name, used in messages.
        text: TOML text in the layout described in the module docstring.

    Returns:
        The file's metrics in file order, each carrying the file's family and version.

    Raises:
        ValueError: the file is not valid TOML or breaks a rule; the message names the file and
            the metric.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise ValueError(f"{name}: unknown top-level key(s): {', '.join(unknown)}")
    for key in ("family", "version", "title"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"{name}: top-level '{key}' must be a non-empty string")
    entries = data.get("metrics")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{name}: needs at least one [[metrics]] table")
    out: list[MetricDefinition] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"{name}: metric {number} is not a table")
        where = f"{name}: metric {number} ('{entry.get('id', '?')}')"
        clash = sorted(_FROM_FILE & set(entry))
        if clash:
            raise ValueError(f"{where}: {', '.join(clash)} are set once per file, not per metric")
        fields: dict[str, Any] = {"family": data["family"], "version": data["version"]}
        if "source" in data:
            fields["source"] = data["source"]
        fields.update(entry)
        try:
            out.append(MetricDefinition.model_validate(fields))
        except ValidationError as exc:
            rules = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'metric'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ValueError(f"{where}: {rules}") from None
    return out


def load_definitions(files: Mapping[str, str]) -> dict[str, MetricDefinition]:
    """All metrics of a set of definitions files, by id.

    Args:
        files: file name → TOML text.

    Returns:
        Metrics by id, files in name order and metrics in file order.

    Raises:
        ValueError: a file breaks a rule, two files share a family, or an id appears twice.
    """
    out: dict[str, MetricDefinition] = {}
    family_file: dict[str, str] = {}
    for name in sorted(files):
        for defn in parse_definitions(name, files[name]):
            first = family_file.setdefault(defn.family, name)
            if first != name:
                raise ValueError(f"{name}: family '{defn.family}' is already defined in {first}")
            if defn.id in out:
                raise ValueError(f"{name}: metric id '{defn.id}' is defined twice")
            out[defn.id] = defn
    return out


@cache
def _packaged() -> dict[str, MetricDefinition]:
    folder = resources.files("flowplan.metrics").joinpath("definitions")
    files = {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }
    return load_definitions(files)


def registry() -> dict[str, MetricDefinition]:
    """Every packaged metric by id (read once, then cached; the dict returned is a copy)."""
    return dict(_packaged())


def families() -> list[str]:
    """The metric families (first part of the ids), sorted."""
    return sorted({defn.family for defn in _packaged().values()})


def _closeness(wanted: str, metric_id: str) -> float:
    """Similarity of a typed id to a real one, also comparing the part after the family."""
    suffix = metric_id.split(".", 1)[1]
    return max(
        difflib.SequenceMatcher(None, wanted, metric_id).ratio(),
        difflib.SequenceMatcher(None, wanted, suffix).ratio(),
    )


def close_matches(wanted: str) -> list[str]:
    """Up to three metric ids that look like ``wanted``, closest first."""
    scores = {metric_id: _closeness(wanted, metric_id) for metric_id in _packaged()}
    close = [metric_id for metric_id, score in scores.items() if score >= _CLOSE_CUTOFF]
    scored = sorted(close, key=lambda metric_id: (-scores[metric_id], metric_id))
    return scored[:_CLOSE_MATCHES]


def unknown_metric_message(metric_id: str) -> str:
    """The one-line message for a metric id that is not in the registry."""
    text = f"unknown metric '{metric_id}' (see `flowplan metric list`)"
    matches = close_matches(metric_id)
    if matches:
        quoted = [f"'{m}'" for m in matches]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        text += f"; did you mean {listed}?"
    return text


def get(metric_id: str) -> MetricDefinition:
    """The metric called ``metric_id``.

    Raises:
        UsageError: no such metric; the message lists close matches.
    """
    defn = _packaged().get(metric_id)
    if defn is None:
        raise UsageError(unknown_metric_message(metric_id))
    return defn
