"""Fixed requirement lists per plan type, held as versioned data in packaged TOML files.

Each requirement set lives in one file under ``flowplan/plans/requirements/`` (for example
``resilience_capacity.toml`` for the minimum plan requirements of the 2014/15 operational
resilience and capacity plans). A file looks like::

    title = "..."                          # what the list is
    version = "2014-15.1"                  # version of this list (a plan records the one it used)
    plan_types = ["resilience_capacity"]   # the plan types (``PlanType`` values) it applies to
    source = "seed file, section, L489–L540"

    [[requirements]]
    id = "NE01"                            # stable id that schemes cite
    section = "non_elective"               # group within the list
    title = "Capacity modelling and scenario planning"
    text = "..."                           # the seed's wording
    guidance = "..."                       # optional fuller wording
    mandatory = true                       # every plan of the type must meet it

Files shipped: ``resilience_capacity.toml`` (NE01–NE13, EL01–EL13), ``planning_fundamentals.toml``
(PF01–PF21, operational and strategic plans), ``bcf.toml`` (BCF-NC1–BCF-NC6) and
``stp_on_a_page.toml`` (STP01–STP07, none mandatory). A new version of a list is a new file
with the same ``plan_types`` and a later ``version``; old plans keep resolving against the
version they name.

``risk_matrix.toml`` in the same folder holds the 5×5 risk-score bands (NPSA 2008) used by
:attr:`flowplan.plans.model.Risk.rag`.

This module imports nothing from the rest of :mod:`flowplan.plans`; plan types are plain strings
here (the values of :class:`flowplan.plans.model.PlanType`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.errors import UsageError

PLAN_TYPE_VALUES = ("resilience_capacity", "operational", "strategic", "stp_on_a_page", "bcf")
"""The plan types a requirement set may name (the values of ``PlanType``)."""

RISK_MATRIX_FILE = "risk_matrix.toml"
REQUIREMENT_ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"

PlanTypeName = Literal["resilience_capacity", "operational", "strategic", "stp_on_a_page", "bcf"]
Rag = Literal["red", "amber", "green"]
Grading = Literal["low", "moderate", "high", "extreme"]

_SET_KEYS = frozenset({"title", "version", "plan_types", "source", "requirements"})


class Requirement(BaseModel):
    """One fixed requirement a plan must (or may) evidence.

    Attributes:
        id: stable identifier cited by schemes (``NE01``, ``EL13``, ``PF21``, ``BCF-NC3``).
        section: group within the list (``non_elective``, ``elective``, ``outcomes``,
            ``national_condition``, ...).
        title: short title.
        text: the requirement in the seed's words.
        guidance: fuller wording or explanation from the seed ("" when none).
        mandatory: every plan of the set's plan types must meet it (by at least one scheme).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=REQUIREMENT_ID_PATTERN)
    section: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    guidance: str = ""
    mandatory: bool


class RequirementSet(BaseModel):
    """One versioned requirement list (one TOML file).

    Attributes:
        name: file name without ``.toml``.
        title: what the list is.
        version: version of the list; plans record it in ``Plan.requirements_version``.
        plan_types: plan types the list applies to.
        source: seed document and line range the list was taken from.
        requirements: the requirements in file order (ids unique).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    plan_types: tuple[PlanTypeName, ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    requirements: tuple[Requirement, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for req in self.requirements:
            if req.id in seen:
                raise ValueError(f"requirement id '{req.id}' appears twice")
            seen.add(req.id)
        return self

    def get(self, requirement_id: str) -> Requirement | None:
        """The requirement called ``requirement_id``, or None."""
        return next((r for r in self.requirements if r.id == requirement_id), None)

    def ids(self) -> list[str]:
        """All requirement ids, in file order."""
        return [r.id for r in self.requirements]

    def mandatory(self) -> list[Requirement]:
        """The mandatory requirements, in file order."""
        return [r for r in self.requirements if r.mandatory]


class RiskBand(BaseModel):
    """One band of the 5×5 risk matrix: scores ``min_score..max_score`` inclusive.

    Attributes:
        grading: NPSA grading (low, moderate, high, extreme).
        min_score: lowest score in the band.
        max_score: highest score in the band.
        rag: the three-colour RAG reported for the band.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grading: Grading
    min_score: int = Field(ge=1, le=25)
    max_score: int = Field(ge=1, le=25)
    rag: Rag


class RiskMatrix(BaseModel):
    """The risk-score bands (``risk_matrix.toml``); contiguous and covering 1..25.

    Attributes:
        title: what the matrix is.
        version: version of the file.
        source: the citation (NPSA, "A risk matrix for risk managers", 2008).
        bands: bands in ascending score order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    bands: tuple[RiskBand, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _contiguous(self) -> Self:
        expected = 1
        for band in self.bands:
            if band.min_score != expected or band.max_score < band.min_score:
                raise ValueError(f"bands must be contiguous from 1; band '{band.grading}' is not")
            expected = band.max_score + 1
        if expected != 26:
            raise ValueError("bands must end at 25")
        return self

    def band(self, score: int) -> RiskBand:
        """The band holding ``score`` (1..25).

        Raises:
            ValueError: the score is outside 1..25.
        """
        for band in self.bands:
            if band.min_score <= score <= band.max_score:
                return band
        raise ValueError(f"risk score {score} is outside 1..25")


def _errors_text(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()
    )


def parse_requirement_set(name: str, text: str) -> RequirementSet:
    """One requirement set from its TOML text.

    Args:
        name: file name (``resilience_capacity.toml``); the set's ``name`` is it without ``.toml``.
        text: TOML in the layout described in the module docstring.

    Raises:
        ValueError: not valid TOML or a rule is broken; the message names the file.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _SET_KEYS)
    if unknown:
        raise ValueError(f"{name}: unknown top-level key(s): {', '.join(unknown)}")
    fields: dict[str, Any] = {"name": name.removesuffix(".toml"), **data}
    fields.setdefault("requirements", [])
    try:
        return RequirementSet.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(f"{name}: {_errors_text(exc)}") from None


def parse_risk_matrix(name: str, text: str) -> RiskMatrix:
    """The risk matrix from its TOML text.

    Raises:
        ValueError: not valid TOML or a rule is broken; the message names the file.
    """
    try:
        data = tomllib.loads(text)
        return RiskMatrix.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ValueError(f"{name}: {_errors_text(exc)}") from None


def load_requirement_sets(files: Mapping[str, str]) -> dict[str, RequirementSet]:
    """Requirement sets from file name → TOML text (the risk matrix file is skipped).

    Returns:
        Sets by name, in file-name order.

    Raises:
        ValueError: a file breaks a rule, or two files give the same version for a plan type.
    """
    out: dict[str, RequirementSet] = {}
    seen: dict[tuple[str, str], str] = {}
    for name in sorted(files):
        if name == RISK_MATRIX_FILE:
            continue
        req_set = parse_requirement_set(name, files[name])
        for plan_type in req_set.plan_types:
            first = seen.setdefault((plan_type, req_set.version), name)
            if first != name:
                raise ValueError(
                    f"{name}: version '{req_set.version}' for '{plan_type}' is already in {first}"
                )
        out[req_set.name] = req_set
    return out


def _packaged_files() -> dict[str, str]:
    folder = resources.files("flowplan.plans").joinpath("requirements")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


@cache
def _packaged_sets() -> dict[str, RequirementSet]:
    return load_requirement_sets(_packaged_files())


@cache
def risk_matrix() -> RiskMatrix:
    """The packaged 5×5 risk matrix (read once, then cached)."""
    return parse_risk_matrix(RISK_MATRIX_FILE, _packaged_files()[RISK_MATRIX_FILE])


def requirement_sets() -> dict[str, RequirementSet]:
    """Every packaged requirement set by name (a copy of the cached dict)."""
    return dict(_packaged_sets())


def _sets_for(plan_type: str) -> list[RequirementSet]:
    if plan_type not in PLAN_TYPE_VALUES:
        raise UsageError(f"unknown plan type '{plan_type}' (one of {', '.join(PLAN_TYPE_VALUES)})")
    return [s for s in _packaged_sets().values() if plan_type in s.plan_types]


def versions(plan_type: str) -> list[str]:
    """The requirement-list versions shipped for ``plan_type``, oldest first (string order)."""
    return sorted(s.version for s in _sets_for(plan_type))


def latest_version(plan_type: str) -> str:
    """The newest requirement-list version for ``plan_type`` (what a new plan should record)."""
    found = versions(plan_type)
    if not found:
        raise UsageError(f"no requirement list is shipped for plan type '{plan_type}'")
    return found[-1]


def requirement_set(plan_type: str, version: str | None = None) -> RequirementSet:
    """The requirement list for a plan type.

    Args:
        plan_type: a ``PlanType`` value.
        version: the list version a plan names; None for the latest.

    Raises:
        UsageError: unknown plan type, or no list of that version for it.
    """
    wanted = latest_version(plan_type) if version is None else version
    for req_set in _sets_for(plan_type):
        if req_set.version == wanted:
            return req_set
    raise UsageError(
        f"no requirement list version '{wanted}' for plan type '{plan_type}'"
        f" (shipped: {', '.join(versions(plan_type)) or 'none'})"
    )


def requirements_for(plan_type: str, version: str | None = None) -> list[Requirement]:
    """All requirements of a plan type's list (latest version unless one is named)."""
    return list(requirement_set(plan_type, version).requirements)


def mandatory_requirements(plan_type: str, version: str | None = None) -> list[Requirement]:
    """The mandatory requirements of a plan type's list."""
    return requirement_set(plan_type, version).mandatory()


def uncovered_mandatory(
    plan_type: str, version: str | None, covered: Iterable[str]
) -> list[Requirement]:
    """Mandatory requirements not among ``covered`` (the ids the plan's schemes meet)."""
    met = set(covered)
    return [r for r in mandatory_requirements(plan_type, version) if r.id not in met]


def requirement(requirement_id: str) -> Requirement:
    """The requirement called ``requirement_id`` in any packaged list (newest version first).

    Raises:
        UsageError: no list holds it.
    """
    for req_set in sorted(_packaged_sets().values(), key=lambda s: s.version, reverse=True):
        found = req_set.get(requirement_id)
        if found is not None:
            return found
    raise UsageError(f"unknown requirement '{requirement_id}'")
