"""The scenario document of the UEC flow simulation: pydantic models, loading, dumping, schema.

A scenario describes demand, services, capacities, policies and schemes of a whole urgent and
emergency care system (see ``docs/simulation.md`` for the semantics both engines implement).
Units: every duration is in **hours** unless a field name says otherwise (``..._minutes``,
``..._days``, ``..._per_day``); volumes are arrivals per day (streams) or per hour (queues).

Every section is optional so that a single-queue scenario is one ``queues`` entry; cross-section
rules (a patient must always have a way out) are checked after the fields themselves.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from flowplan.errors import MAX_SHOWN, UsageError
from flowplan.sim.distributions import Distribution

STREAM_NAMES: tuple[str, ...] = (
    "calls_111",
    "calls_999",
    "ed_walk_in",
    "direct_referral",
    "direct_admissions",
)
"""Built-in demand streams, in their fixed order (compiled stream index = position)."""

StreamName = Literal["calls_111", "calls_999", "ed_walk_in", "direct_referral", "direct_admissions"]

FRONT_DOOR_SOURCES: tuple[str, ...] = ("walk_in", "nhs111_ed", "nhs111_utc", "direct_referral")
"""Front-door arrival sources, in their fixed order (readmissions use ``walk_in``)."""

RESERVED_PREFIXES = frozenset(
    {"nhs111", "ambulance", "ed", "utc", "sdec", "ward", "p1", "p2", "p3", "all_types"}
)

PROFILE_TOLERANCE = 1e-6
"""Tolerance on profile sums (hour shares sum to 1) and means (day/month multipliers mean 1)."""

PROBABILITY_TOLERANCE = 1e-9
"""Tolerance on probability groups summing to 1."""


# --- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioProblem:
    """One broken rule at one place in a scenario.

    Attributes:
        path: dotted field path, list items as ``[i]`` (e.g. ``demand.surges[0].end``);
            ``(scenario)`` for the whole document.
        rule: what is wrong and, where useful, what to do.
        value: the offending value as text ("" when there is none).
    """

    path: str
    rule: str
    value: str = ""


class ScenarioError(UsageError):
    """A scenario file or object broke one or more rules; one line per problem.

    Each line reads ``FILE: field.path: rule — value``.
    """

    def __init__(self, problems: Sequence[ScenarioProblem], file: str = "<scenario>") -> None:
        self.problems = list(problems)
        self.file = file
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for p in self.problems[:MAX_SHOWN]:
            text = f"{self.file}: {p.path or '(scenario)'}: {p.rule}"
            out.append(f"{text} — {p.value}" if p.value != "" else text)
        hidden = len(self.problems) - MAX_SHOWN
        if hidden > 0:
            out.append(f"... and {hidden} more problem(s) ({len(self.problems)} in all)")
        return out

    def with_file(self, file: str) -> ScenarioError:
        """The same problems reported against ``file``."""
        return ScenarioError(self.problems, file)


# --- field types ----------------------------------------------------------------------------


def _hourly_ints(value: object) -> int | list[int]:
    def whole(v: object) -> int:
        if isinstance(v, bool):
            raise ValueError(f"must be a whole number ≥ 0, got {v!r}")
        if isinstance(v, int):
            n = v
        elif isinstance(v, float) and v.is_integer():
            n = int(v)
        else:
            raise ValueError(f"must be a whole number ≥ 0, got {v!r}")
        if n < 0:
            raise ValueError(f"must be ≥ 0 (a capacity cannot be negative), got {n}")
        return n

    if isinstance(value, list | tuple):
        if len(value) != 24:
            raise ValueError(f"an hour-of-day capacity needs 24 values, got {len(value)}")
        return [whole(v) for v in value]
    return whole(value)


HourlyInts = Annotated[
    int | list[int],
    PlainValidator(_hourly_ints),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "minItems": 24,
                    "maxItems": 24,
                },
            ],
            "description": "a constant count, or 24 counts by hour of day (00:00–01:00 first)",
        }
    ),
]
"""A capacity: one whole number ≥ 0, or 24 of them by hour of day."""


def hourly_values(value: int | list[int]) -> list[int]:
    """The 24 hour-of-day values of an :data:`HourlyInts` capacity."""
    return [value] * 24 if isinstance(value, int) else list(value)


def _shares(n: int) -> Any:
    def check(values: list[float]) -> list[float]:
        if len(values) != n:
            raise ValueError(f"needs {n} values, got {len(values)}")
        if any(v < 0 or not math.isfinite(v) for v in values):
            raise ValueError("shares must be finite and ≥ 0")
        total = math.fsum(values)
        if abs(total - 1.0) > PROFILE_TOLERANCE:
            raise ValueError(f"shares sum to {total:.9g}, must be 1")
        return values

    return AfterValidator(check)


def _multipliers(n: int) -> Any:
    def check(values: list[float]) -> list[float]:
        if len(values) != n:
            raise ValueError(f"needs {n} values, got {len(values)}")
        if any(v < 0 or not math.isfinite(v) for v in values):
            raise ValueError("multipliers must be finite and ≥ 0")
        mean = math.fsum(values) / n
        if abs(mean - 1.0) > PROFILE_TOLERANCE:
            raise ValueError(f"multipliers have mean {mean:.9g}, must be 1")
        return values

    return AfterValidator(check)


HourShares = Annotated[list[float], _shares(24)]
"""24 hour-of-day shares (00:00–01:00 first), each ≥ 0, summing to 1."""
DayMultipliers = Annotated[list[float], _multipliers(7)]
"""7 day-of-week multipliers (Monday first), mean 1."""
MonthMultipliers = Annotated[list[float], _multipliers(12)]
"""12 month multipliers (January first), mean 1."""
Probability = Annotated[float, Field(ge=0, le=1)]
"""A probability in [0, 1]."""

FLAT_DAY = [1.0] * 7
FLAT_MONTH = [1.0] * 12
FLAT_HOURS = [1.0 / 24] * 24


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)


class _ProbabilityGroup(_Model):
    """Probabilities of mutually exclusive outcomes; they must sum to 1 (within 1e-9)."""

    @model_validator(mode="after")
    def _sums_to_one(self) -> _ProbabilityGroup:
        values = [float(v) for v in self.model_dump().values()]
        total = math.fsum(values)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise ValueError(f"probabilities sum to {total:.12g}, must be 1")
        return self

    def as_list(self) -> list[float]:
        """The probabilities in field order."""
        return [float(v) for v in self.model_dump().values()]


# --- demand ---------------------------------------------------------------------------------


class Stream(_Model):
    """A demand stream: non-homogeneous Poisson arrivals with a piecewise-constant hourly rate.

    The volume of a day is ``daily_mean × dow[weekday] × month[month]`` (or the CSV value for that
    date), times ``volume_factor``, times ``1 + uplift_pct/100`` of each surge covering the day;
    it is spread over the hours by ``hourly``.
    """

    daily_mean: float = Field(ge=0, description="mean arrivals per day")
    dow: DayMultipliers = Field(default_factory=lambda: list(FLAT_DAY))
    month: MonthMultipliers = Field(default_factory=lambda: list(FLAT_MONTH))
    hourly: HourShares = Field(default_factory=lambda: list(FLAT_HOURS))
    volume_factor: float = Field(
        default=1.0, ge=0, description="multiplies every day's volume (CSV or not); scheme-able"
    )
    volumes_csv: str | None = Field(
        default=None,
        description="CSV with columns ds (date), mean (arrivals that day); its days replace "
        "daily_mean × dow × month; relative paths are from the scenario file's folder",
    )


class Surge(_Model):
    """A surge episode: the named streams' volumes rise by ``uplift_pct`` % from start to end."""

    name: str
    start: date = Field(description="first day of the surge")
    end: date = Field(description="last day of the surge (inclusive)")
    streams: list[StreamName] = Field(min_length=1)
    uplift_pct: float = Field(gt=-100, description="percentage change in volume, e.g. 15")

    @model_validator(mode="after")
    def _ordered(self) -> Surge:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Demand(_Model):
    """The demand streams (each optional) and surge episodes."""

    calls_111: Stream | None = None
    calls_999: Stream | None = Field(default=None, description="ambulance incidents from 999")
    ed_walk_in: Stream | None = Field(default=None, description="self-presentations")
    direct_referral: Stream | None = Field(
        default=None, description="GP/111 referrals to the SDEC/UTC front door"
    )
    direct_admissions: Stream | None = Field(
        default=None, description="patients admitted straight to a G&A bed"
    )
    surges: list[Surge] = Field(default_factory=list)


# --- services -------------------------------------------------------------------------------


class Nhs111Dispositions(_ProbabilityGroup):
    """Outcomes of an answered 111 call."""

    self_care: Probability = 0.0
    primary_care: Probability = 0.0
    utc: Probability = 0.0
    ed: Probability = 0.0
    ambulance: Probability = 0.0


class Nhs111(_Model):
    """NHS 111 call handling: one FIFO queue of calls for ``handlers``."""

    handlers: HourlyInts
    service_time: Distribution = Field(description="call handling time, hours")
    patience: Distribution | None = Field(
        default=None, description="a caller abandons when the wait exceeds this (hours)"
    )
    dispositions: Nhs111Dispositions
    travel: Distribution = Field(description="delay from disposition to front door, hours")


class AmbulanceDispositions(_ProbabilityGroup):
    """Outcomes of an ambulance incident."""

    hear_and_treat: Probability = 0.0
    see_and_treat: Probability = 0.0
    see_and_convey: Probability = 0.0


class Ambulance(_Model):
    """Ambulance service: vehicles, job times and the hospital handover."""

    vehicles: HourlyInts
    dispositions: AmbulanceDispositions
    travel_to_scene: Distribution = Field(description="hours")
    on_scene: Distribution = Field(description="hours")
    travel_to_hospital: Distribution = Field(description="hours")
    handover_time: Distribution = Field(description="handover once a cubicle is free, hours")
    turnaround: Distribution = Field(description="after handover until the vehicle is free, hours")
    handover_target_minutes: float = Field(
        default=15.0, ge=0, description="handover delay beyond this is lost vehicle time, minutes"
    )


class Routing(_ProbabilityGroup):
    """Front-door streaming probabilities."""

    ed: Probability = 0.0
    utc: Probability = 0.0
    sdec: Probability = 0.0


class FrontDoor(_Model):
    """Streaming at the front door, by source of the arrival."""

    walk_in: Routing = Field(default_factory=lambda: Routing(ed=1.0))
    nhs111_ed: Routing = Field(default_factory=lambda: Routing(ed=1.0))
    nhs111_utc: Routing = Field(default_factory=lambda: Routing(utc=1.0))
    direct_referral: Routing = Field(default_factory=lambda: Routing(sdec=1.0))


class Utc(_Model):
    """Urgent treatment centre: one FIFO queue for ``clinicians``."""

    clinicians: HourlyInts
    service_time: Distribution = Field(description="hours")
    to_ed: Probability = Field(default=0.0, description="probability of onward referral to ED")


class Sdec(_Model):
    """Same-day emergency care: chairs held from service start until the patient leaves."""

    chairs: int = Field(ge=0)
    service_time: Distribution = Field(description="hours")
    admit: Probability = 0.0
    open_hour: int = Field(default=0, ge=0, le=23, description="opens at this hour (0–23)")
    close_hour: int = Field(default=24, ge=1, le=24, description="closes at this hour (1–24)")

    @model_validator(mode="after")
    def _hours(self) -> Sdec:
        if self.close_hour <= self.open_hour:
            raise ValueError(
                f"close_hour {self.close_hour} must be after open_hour {self.open_hour}"
            )
        return self


class Ed(_Model):
    """Type 1 emergency department."""

    cubicles: int = Field(ge=0)
    triage_clinicians: HourlyInts
    clinicians: HourlyInts
    assessment_time: Distribution = Field(description="initial assessment, hours")
    treatment_time: Distribution = Field(description="clinician treatment (cubicle held), hours")
    admit: Probability = 0.0


# --- wards and discharge ---------------------------------------------------------------------


class PathwayMix(_ProbabilityGroup):
    """Discharge pathway probabilities P0–P3 drawn on admission."""

    p0: Probability = 0.0
    p1: Probability = 0.0
    p2: Probability = 0.0
    p3: Probability = 0.0


class PathwayDistributions(_Model):
    """One duration distribution per pathway (hours)."""

    p0: Distribution
    p1: Distribution
    p2: Distribution
    p3: Distribution


class PathwayFactors(_Model):
    """One non-negative factor per pathway."""

    p0: float = Field(default=1.0, ge=0)
    p1: float = Field(default=1.0, ge=0)
    p2: float = Field(default=1.0, ge=0)
    p3: float = Field(default=1.0, ge=0)


class PathwayProbabilities(_Model):
    """One probability per pathway (not a group: they need not sum to 1)."""

    p0: Probability = 0.0
    p1: Probability = 0.0
    p2: Probability = 0.0
    p3: Probability = 0.0


class Wards(_Model):
    """General and acute (G&A) beds, escalation, pathways and length of stay."""

    core_beds: int = Field(ge=0)
    escalation_beds: int = Field(default=0, ge=0)
    escalation_trigger: float = Field(
        default=0.98, gt=0, le=1, description="open escalation at occupied/core_beds ≥ this"
    )
    escalation_close: float = Field(
        default=0.95, ge=0, le=1, description="close when occupied/core_beds < this"
    )
    pathway_mix: PathwayMix
    los: PathwayDistributions = Field(description="admission to medically optimised, hours")
    los_multiplier: PathwayFactors = Field(default_factory=PathwayFactors)
    readmission: PathwayProbabilities = Field(default_factory=PathwayProbabilities)
    readmission_window_days: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _escalation(self) -> Wards:
        if self.escalation_close > self.escalation_trigger:
            raise ValueError(
                f"escalation_close {self.escalation_close:g} is above escalation_trigger "
                f"{self.escalation_trigger:g}"
            )
        return self


class Discharge(_Model):
    """Discharge timing and the capacity of pathways 1–3."""

    profile: HourShares = Field(description="24 hour-of-day shares of discharges")
    weekend_factor: float = Field(
        default=1.0, ge=0, le=1, description="scales P0 hazard and P1/P3 capacity on Sat/Sun"
    )
    p1_starts_per_day: float = Field(ge=0)
    p2_beds: int = Field(ge=0)
    p2_los: Distribution = Field(description="stay in a step-down bed, hours")
    p3_placements_per_day: float = Field(ge=0)


# --- queues, schemes, census, run -----------------------------------------------------------


class Queue(_Model):
    """A generic M/G/c queue: Poisson arrivals, FIFO, ``servers`` servers."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="KPI prefix of the resource")
    arrival_rate: float = Field(ge=0, description="arrivals per hour")
    service: Distribution = Field(description="hours")
    servers: int = Field(ge=0)


OverrideValue = int | float | list[int] | list[float] | dict[str, float]


class Override(_Model):
    """One parameter change: set it to ``value`` or multiply it by ``multiply``."""

    path: str = Field(description="dotted path of a scheme-able parameter")
    value: OverrideValue | None = None
    multiply: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> Override:
        if (self.value is None) == (self.multiply is None):
            raise ValueError("give exactly one of value or multiply")
        return self


class Scheme(_Model):
    """A named set of parameter changes in force from ``start``."""

    name: str
    start: date
    description: str = ""
    overrides: list[Override] = Field(min_length=1)


PathwayName = Literal["P0", "P1", "P2", "P3"]


class CensusBed(_Model):
    """A patient in a G&A bed at time 0."""

    los_so_far_hours: float = Field(ge=0)
    pathway: PathwayName
    delayed: bool = Field(default=False, description="already medically optimised")


class Census(_Model):
    """Start state at time 0 (instead of, or as well as, a warm-up)."""

    occupied_beds: list[CensusBed] = Field(default_factory=list)
    ed_occupants: int = Field(default=0, ge=0, description="patients in ED cubicles")
    p2_occupied: int = Field(default=0, ge=0, description="patients in step-down beds")


class RunSettings(_Model):
    """Default run length, replications and seed (the runner may override them)."""

    days: int = Field(default=365, ge=1, description="measured days after warm-up")
    warmup_days: int = Field(default=28, ge=0)
    replications: int = Field(default=10, ge=1)
    seed: int = Field(default=20240401, ge=0)


SCHEMEABLE_PATTERNS: tuple[str, ...] = (
    r"demand\.(calls_111|calls_999|ed_walk_in|direct_referral|direct_admissions)"
    r"\.(daily_mean|volume_factor)",
    r"nhs111\.dispositions(\.(self_care|primary_care|utc|ed|ambulance))?",
    r"ambulance\.dispositions(\.(hear_and_treat|see_and_treat|see_and_convey))?",
    r"front_door\.(walk_in|nhs111_ed|nhs111_utc|direct_referral)(\.(ed|utc|sdec))?",
    r"utc\.to_ed",
    r"sdec\.admit",
    r"ed\.admit",
    r"wards\.pathway_mix(\.p[0-3])?",
    r"wards\.los_multiplier(\.p[0-3])?",
    r"nhs111\.handlers",
    r"ambulance\.vehicles",
    r"ed\.(cubicles|triage_clinicians|clinicians)",
    r"utc\.clinicians",
    r"sdec\.chairs",
    r"wards\.(core_beds|escalation_beds)",
    r"discharge\.(p2_beds|weekend_factor|p1_starts_per_day|p3_placements_per_day)",
    r"queues\.[a-z][a-z0-9_]*\.(servers|arrival_rate)",
)
"""Regular expressions (full match) of the parameters a scheme may change."""


class Scenario(_Model):
    """A whole-system UEC flow scenario. Time 0 is 00:00 of ``start_date``."""

    name: str
    description: str = ""
    start_date: date = Field(description="day 0 of the run (warm-up first, then measured days)")
    run: RunSettings = Field(default_factory=RunSettings)
    demand: Demand = Field(default_factory=Demand)
    nhs111: Nhs111 | None = None
    ambulance: Ambulance | None = None
    front_door: FrontDoor | None = None
    utc: Utc | None = None
    sdec: Sdec | None = None
    ed: Ed | None = None
    wards: Wards | None = None
    discharge: Discharge | None = None
    queues: list[Queue] = Field(default_factory=list)
    schemes: list[Scheme] = Field(default_factory=list)
    census: Census | None = None

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _volumes: dict[str, dict[date, float]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_check(self, info: ValidationInfo) -> Scenario:
        context = info.context if isinstance(info.context, dict) else {}
        base = context.get("base_dir")
        if isinstance(base, Path):
            self._base_dir = base
        problems = _check_flows(self)
        if not context.get("skip_schemes"):
            problems += _check_schemes(self)
        if not context.get("skip_files"):
            problems += self._load_volume_files()
        if problems:
            # not a ValueError: pydantic lets it through with its located problems intact
            raise ScenarioError(problems)
        return self

    def __eq__(self, other: object) -> bool:
        """Equal documents (the folder it was loaded from and file caches do not count)."""
        return isinstance(other, Scenario) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def _load_volume_files(self) -> list[ScenarioProblem]:
        problems: list[ScenarioProblem] = []
        for name in STREAM_NAMES:
            stream = getattr(self.demand, name)
            if stream is None or stream.volumes_csv is None:
                continue
            path = Path(stream.volumes_csv)
            if not path.is_absolute():
                path = self._base_dir / path
            field = f"demand.{name}.volumes_csv"
            volumes, found = load_volumes_csv(path, field)
            problems += found
            if not found:
                self._volumes[name] = volumes
        return problems

    def stream_volumes(self, name: str) -> dict[date, float]:
        """Daily volumes of stream ``name`` read from its ``volumes_csv`` ({} without one)."""
        return dict(self._volumes.get(name, {}))

    def effective(self, day: date) -> Scenario:
        """This scenario as in force on ``day``: every scheme with ``start ≤ day`` applied.

        Schemes apply in the order listed, each override to the result of the previous one.
        The result has no schemes.
        """
        active = [s for s in self.schemes if s.start <= day]
        return _apply(self, active)

    def scheme_epochs(self) -> list[tuple[date | None, Scenario]]:
        """``(from_date, effective scenario)`` pairs: ``None`` = before every scheme start."""
        out: list[tuple[date | None, Scenario]] = [(None, _apply(self, []))]
        for start in sorted({s.start for s in self.schemes}):
            out.append((start, self.effective(start)))
        return out


# --- cross-section checks --------------------------------------------------------------------


def _busy(value: int | list[int]) -> bool:
    return max(hourly_values(value)) > 0


def _ed_problem(s: Scenario) -> str | None:
    """Why ED cannot see a patient, or None when it can."""
    if s.ed is None:
        return "there is no ed section"
    if s.ed.cubicles == 0:
        return "ED has zero cubicles"
    if not _busy(s.ed.triage_clinicians):
        return "ED has zero triage clinicians at every hour"
    if not _busy(s.ed.clinicians):
        return "ED has zero clinicians at every hour"
    return None


def _bed_problem(s: Scenario) -> str | None:
    """Why an admitted patient can never get a bed or leave it, or None."""
    if s.wards is None:
        return "there is no wards section"
    if s.wards.core_beds + s.wards.escalation_beds == 0:
        return "wards have no beds (core_beds + escalation_beds = 0)"
    if s.discharge is None:
        return "there is no discharge section"
    return None


_NO_EXIT = "a patient could never leave"


def _check_flows(s: Scenario) -> list[ScenarioProblem]:
    """Every path a patient can take must reach an exit."""
    out: list[ScenarioProblem] = []

    def add(path: str, rule: str, value: object = "") -> None:
        out.append(ScenarioProblem(path, rule, "" if value == "" else str(value)))

    d = s.demand
    needs = {
        "calls_111": ("nhs111", s.nhs111),
        "calls_999": ("ambulance", s.ambulance),
        "ed_walk_in": ("front_door", s.front_door),
        "direct_referral": ("front_door", s.front_door),
        "direct_admissions": ("wards", s.wards),
    }
    for name, (section, present) in needs.items():
        if getattr(d, name) is not None and present is None:
            add(f"demand.{name}", f"the stream needs a {section} section: {_NO_EXIT}")
    for i, surge in enumerate(d.surges):
        for stream in surge.streams:
            if getattr(d, stream) is None:
                add(f"demand.surges[{i}].streams", "names a stream the scenario lacks", stream)

    disp = s.nhs111.dispositions if s.nhs111 else None
    if s.nhs111 is not None:
        if not _busy(s.nhs111.handlers) and s.nhs111.patience is None:
            add("nhs111.handlers", f"zero handlers at every hour and no patience: {_NO_EXIT}")
        if s.nhs111.dispositions.ambulance > 0 and s.ambulance is None:
            add(
                "nhs111.dispositions.ambulance",
                f"> 0 but there is no ambulance section: {_NO_EXIT}",
                s.nhs111.dispositions.ambulance,
            )

    if s.ambulance is not None:
        a = s.ambulance.dispositions
        if a.see_and_treat + a.see_and_convey > 0 and not _busy(s.ambulance.vehicles):
            add(
                "ambulance.vehicles",
                f"zero vehicles at every hour but incidents need one: {_NO_EXIT}",
            )
        why = _ed_problem(s)
        if a.see_and_convey > 0 and why:
            add(
                "ambulance.dispositions.see_and_convey",
                f"> 0 but {why}: {_NO_EXIT}",
                a.see_and_convey,
            )

    sources: dict[str, bool] = {
        "walk_in": d.ed_walk_in is not None
        or (s.wards is not None and max(s.wards.readmission.model_dump().values()) > 0),
        "nhs111_ed": disp is not None and disp.ed > 0,
        "nhs111_utc": disp is not None and disp.utc > 0,
        "direct_referral": d.direct_referral is not None,
    }
    if s.front_door is None:
        for source, origin in (("nhs111_ed", "ed"), ("nhs111_utc", "utc")):
            if sources[source]:
                add(
                    f"nhs111.dispositions.{origin}",
                    f"> 0 but there is no front_door section: {_NO_EXIT}",
                )
        if sources["walk_in"] and d.ed_walk_in is None:
            add("wards.readmission", f"> 0 but there is no front_door section: {_NO_EXIT}")
    else:
        ed_why = _ed_problem(s)
        for source in FRONT_DOOR_SOURCES:
            if not sources[source]:
                continue
            r: Routing = getattr(s.front_door, source)
            path = f"front_door.{source}"
            if r.ed > 0 and ed_why:
                add(f"{path}.ed", f"> 0 but {ed_why}: {_NO_EXIT}", r.ed)
            if r.utc > 0:
                if s.utc is None or not _busy(s.utc.clinicians):
                    add(f"{path}.utc", f"> 0 but UTC has no clinicians: {_NO_EXIT}", r.utc)
                elif s.utc.to_ed > 0 and ed_why:
                    add("utc.to_ed", f"> 0 but {ed_why}: {_NO_EXIT}", s.utc.to_ed)
            if r.sdec > 0:
                if s.sdec is None or s.sdec.chairs == 0:
                    add(f"{path}.sdec", f"> 0 but SDEC has no chairs: {_NO_EXIT}", r.sdec)
                elif (s.sdec.open_hour, s.sdec.close_hour) != (0, 24) and ed_why:
                    add(
                        f"{path}.sdec",
                        f"> 0 and SDEC closes (then patients go to ED) but {ed_why}: {_NO_EXIT}",
                        r.sdec,
                    )

    bed_why = _bed_problem(s)
    if bed_why:
        if s.ed is not None and s.ed.admit > 0:
            add("ed.admit", f"> 0 but {bed_why}: {_NO_EXIT}", s.ed.admit)
        if s.sdec is not None and s.sdec.admit > 0:
            add("sdec.admit", f"> 0 but {bed_why}: {_NO_EXIT}", s.sdec.admit)
        if d.direct_admissions is not None and s.wards is not None:
            add("demand.direct_admissions", f"{bed_why}: {_NO_EXIT}")
    if s.wards is not None and s.discharge is not None:
        mix, dis = s.wards.pathway_mix, s.discharge
        for key, capacity, field in (
            ("p1", dis.p1_starts_per_day, "p1_starts_per_day"),
            ("p2", dis.p2_beds, "p2_beds"),
            ("p3", dis.p3_placements_per_day, "p3_placements_per_day"),
        ):
            if getattr(mix, key) > 0 and capacity == 0:
                add(
                    f"discharge.{field}",
                    f"is 0 but wards.pathway_mix.{key} > 0: {_NO_EXIT}",
                    capacity,
                )

    names: set[str] = set()
    for i, q in enumerate(s.queues):
        if q.name in names:
            add(f"queues[{i}].name", "duplicate queue name", q.name)
        if q.name in RESERVED_PREFIXES:
            add(f"queues[{i}].name", "clashes with a built-in KPI prefix", q.name)
        names.add(q.name)
        if q.servers == 0 and q.arrival_rate > 0:
            add(f"queues[{i}].servers", f"is 0 but arrival_rate > 0: {_NO_EXIT}", q.servers)

    if s.census is not None:
        c = s.census
        if c.occupied_beds and s.wards is None:
            add("census.occupied_beds", "there is no wards section")
        if c.ed_occupants and _ed_problem(s):
            add("census.ed_occupants", f"> 0 but {_ed_problem(s)}", c.ed_occupants)
        if c.p2_occupied and (s.discharge is None or s.discharge.p2_beds == 0):
            add("census.p2_occupied", "> 0 but there are no P2 beds", c.p2_occupied)
    return out


# --- schemes ---------------------------------------------------------------------------------


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _apply_override(data: dict[str, Any], ov: Override) -> str | None:
    """Apply one override to a scenario dict in place; return a problem text or None."""
    parts = ov.path.split(".")
    node: Any = data
    for i, key in enumerate(parts[:-1]):
        if isinstance(node, list):  # queues: by name
            match = [q for q in node if isinstance(q, dict) and q.get("name") == key]
            if not match:
                return f"no queue named {key!r}"
            node = match[0]
            continue
        if not isinstance(node, dict) or node.get(key) is None:
            return f"the scenario has no {'.'.join(parts[: i + 1])}"
        node = node[key]
    last = parts[-1]
    if not isinstance(node, dict) or last not in node or node[last] is None:
        return f"the scenario has no {ov.path}"
    if ov.value is not None:
        if (
            isinstance(ov.value, dict)
            and isinstance(node[last], dict)
            and not set(ov.value) <= set(node[last])
        ):
            return f"unknown keys {sorted(set(ov.value) - set(node[last]))}"
        node[last] = (
            {k: 0.0 for k in node[last]} | dict(ov.value)
            if isinstance(ov.value, dict) and isinstance(node[last], dict)
            else copy.deepcopy(ov.value)
        )
        return None
    m = float(ov.multiply or 0.0)
    current = node[last]
    if isinstance(current, bool | dict):
        return "multiply needs a number or a list of numbers"
    if isinstance(current, int):
        node[last] = _round_half_up(current * m)
    elif isinstance(current, float):
        node[last] = current * m
    elif isinstance(current, list):
        node[last] = [_round_half_up(v * m) if isinstance(v, int) else v * m for v in current]
    else:
        return "multiply needs a number or a list of numbers"
    return None


def _apply(s: Scenario, schemes: Sequence[Scheme]) -> Scenario:
    data = s.model_dump(mode="python")
    data["schemes"] = []
    for scheme in schemes:
        for ov in scheme.overrides:
            problem = _apply_override(data, ov)
            if problem:
                raise ScenarioError([ScenarioProblem(f"schemes.{scheme.name}", problem, ov.path)])
    out = Scenario.model_validate(
        data, context={"skip_schemes": True, "skip_files": True, "base_dir": s._base_dir}
    )
    out._volumes = s._volumes
    return out


def _check_schemes(s: Scenario) -> list[ScenarioProblem]:
    out: list[ScenarioProblem] = []
    for i, scheme in enumerate(s.schemes):
        for j, ov in enumerate(scheme.overrides):
            if not any(re.fullmatch(p, ov.path) for p in SCHEMEABLE_PATTERNS):
                out.append(
                    ScenarioProblem(
                        f"schemes[{i}].overrides[{j}].path",
                        "not a scheme-able parameter (see docs/simulation.md)",
                        ov.path,
                    )
                )
            elif ov.value is not None and ov.path.endswith(".daily_mean"):
                stream = getattr(s.demand, ov.path.split(".")[1])
                if stream is not None and stream.volumes_csv is not None:
                    out.append(
                        ScenarioProblem(
                            f"schemes[{i}].overrides[{j}]",
                            "the stream takes volumes from a CSV: change volume_factor instead",
                            ov.path,
                        )
                    )
    if out:
        return out
    for start in sorted({sc.start for sc in s.schemes}):
        active = [sc for sc in s.schemes if sc.start <= start]
        prefix = f"schemes (in force from {start})"
        try:
            _apply(s, active)
        except ScenarioError as exc:
            out += [ScenarioProblem(f"{prefix}: {p.path}", p.rule, p.value) for p in exc.problems]
        except ValidationError as exc:
            out += [
                ScenarioProblem(f"{prefix}: {p.path}", p.rule, p.value)
                for p in problems_from_validation(exc)
            ]
        if out:
            break
    return out


# --- CSV volumes -----------------------------------------------------------------------------


def load_volumes_csv(path: Path, field: str) -> tuple[dict[date, float], list[ScenarioProblem]]:
    """Read a daily volume CSV (columns ``ds``, ``mean``; other columns ignored).

    Args:
        path: the CSV file.
        field: field path reported in problems.

    Returns:
        ``({date: arrivals that day}, problems)``; problems empty when the file is good.
    """
    if not path.is_file():
        return {}, [ScenarioProblem(field, "file not found", str(path))]
    volumes: dict[date, float] = {}
    problems: list[ScenarioProblem] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or [])
        if not {"ds", "mean"} <= columns:
            return {}, [ScenarioProblem(field, "CSV needs columns ds and mean", str(path))]
        for row_no, row in enumerate(reader, start=2):
            where = f"{path.name}:{row_no}"
            try:
                day = date.fromisoformat((row["ds"] or "").strip()[:10])
            except ValueError:
                problems.append(ScenarioProblem(field, f"{where}: ds is not a date", row["ds"]))
                continue
            try:
                value = float(row["mean"] or "")
            except ValueError:
                problems.append(
                    ScenarioProblem(field, f"{where}: mean is not a number", row["mean"])
                )
                continue
            if not math.isfinite(value) or value < 0:
                problems.append(ScenarioProblem(field, f"{where}: mean must be ≥ 0", row["mean"]))
            elif day in volumes:
                problems.append(ScenarioProblem(field, f"{where}: duplicate date", str(day)))
            else:
                volumes[day] = value
    return volumes, problems


# --- load, dump, schema ----------------------------------------------------------------------


def _path_text(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _value_text(value: object) -> str:
    if isinstance(value, dict | list):
        return ""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problems_from_validation(exc: ValidationError) -> list[ScenarioProblem]:
    """One :class:`ScenarioProblem` per pydantic error (field path, rule, value)."""
    out = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        value: object = err.get("input", "")
        if kind == "extra_forbidden":
            msg = "unknown key (not in the scenario schema)"
        elif kind == "missing":
            msg, value = "required key is missing", ""
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            ctx = err.get("ctx", {})
            sign = {
                "greater_than_equal": "≥",
                "greater_than": ">",
                "less_than_equal": "≤",
                "less_than": "<",
            }[kind]
            bound = next(iter(ctx.values()), "")
            msg = f"must be {sign} {bound}"
        out.append(ScenarioProblem(_path_text(err["loc"]), msg, _value_text(value)))
    return out


def validate_scenario(
    data: object, file: str = "<scenario>", base_dir: Path | None = None
) -> Scenario:
    """Validate a parsed scenario document.

    Args:
        data: the parsed mapping (from YAML or JSON).
        file: name used in error messages.
        base_dir: folder that relative ``volumes_csv`` paths are resolved against (default cwd).

    Raises:
        ScenarioError: one line per broken rule.
    """
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir or Path.cwd()})
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation(exc), file) from None
    except ScenarioError as exc:
        raise exc.with_file(file) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML, or JSON for ``.json``).

    Raises:
        ScenarioError: the file is missing, unparsable or breaks a rule (one line per problem,
            ``FILE: field.path: rule — value``).
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([ScenarioProblem("", "cannot read the file", str(exc))], file) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError([ScenarioProblem("", "cannot parse the file", first)], file) from None
    if not isinstance(data, dict):
        raise ScenarioError([ScenarioProblem("", "the document must be a mapping")], file)
    return validate_scenario(data, file, path.resolve().parent)


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """The scenario as plain JSON-compatible data (dates as ISO text)."""
    return s.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump_scenario(s: Scenario, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Serialise a scenario; ``load``/``validate_scenario`` of the text gives it back equal."""
    data = scenario_to_dict(s)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def parse_scenario_text(text: str, fmt: Literal["yaml", "json"] = "yaml") -> Scenario:
    """Validate scenario text (the inverse of :func:`dump_scenario`)."""
    data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    return validate_scenario(data)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the scenario document."""
    return Scenario.model_json_schema(by_alias=True, mode="validation")
