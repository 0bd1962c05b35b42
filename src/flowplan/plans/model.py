"""The plan domain: pydantic models of a local health system's plans.

One :class:`Plan` model covers the five plan types flowplan knows (:class:`PlanType`): the SRG
operational resilience & capacity plan (seed ``resilience_capacity_planning_2014-15`` Annex A),
the CCG operational (2-year) and strategic (5-year) plans (``everyone_counts_planning_2014-19``),
the STP plan on a page (``stp_plans_on_a_page_2016``) and the Better Care Fund plan. Fields a plan
type does not use stay empty.

These models are a contract shared by the assurance rule engine, the Excel round trip, the
plan-on-a-page renderer and the store: field names are stable. Conventions:

* every model forbids unknown keys (``extra="forbid"``);
* money is :class:`~decimal.Decimal` in pounds (``*_gbp`` fields; STP financial summary rows are
  in £000s as the seed's template is) so totals add up exactly; it is written to JSON/YAML as a
  number, and text such as ``"£1.2m"`` is rejected;
* dates are written ``YYYY-MM-DD``; financial years ``2015/16``;
* numbers are strict: text is never silently turned into a number;
* the models check only what one object can check by itself. Checks that look across the plan
  (ids exist, references resolve, leads are members, milestone graph is acyclic) are in
  :func:`flowplan.plans.document.integrity_problems`, run by ``load_plan``. Assurance rules (totals
  match, requirements covered, funding gap shown, ranges ordered...) belong to the rule engine.

:func:`plan_json_schema` exports the JSON Schema of a plan document.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from flowplan.errors import ProblemsError
from flowplan.plans.money import decimal_number, to_decimal
from flowplan.plans.requirements import Grading, Rag, risk_matrix

# --- Enumerations ------------------------------------------------------------------------------


class PlanType(StrEnum):
    """What kind of plan a document is."""

    resilience_capacity = "resilience_capacity"
    """SRG operational resilience & capacity plan (seed 000 Annex A)."""
    operational = "operational"
    """CCG operational plan, 2 years (seed 001)."""
    strategic = "strategic"
    """CCG / unit of planning strategic plan, 5 years (seed 001)."""
    stp_on_a_page = "stp_on_a_page"
    """STP plan on a page (seed 002)."""
    bcf = "bcf"
    """Better Care Fund plan (seed 001 Annex I)."""


class PlanStatus(StrEnum):
    """Where a plan is in its workflow (maintained by the workflow, not by hand)."""

    draft = "draft"
    submitted = "submitted"
    signed_off = "signed_off"
    published = "published"


class Role(StrEnum):
    """A member organisation's role in a plan (seed 001 L696–706)."""

    produces = "produces"
    """Drafts and submits the plan."""
    engaged = "engaged"
    """Contributes to the plan."""
    triangulation = "triangulation"
    """Checks the plan is consistent with its own plans."""
    assures = "assures"
    """Gives formal assurance."""


class OrgType(StrEnum):
    """Kind of organisation a member is."""

    ccg = "ccg"
    icb = "icb"
    acute_trust = "acute_trust"
    ambulance_trust = "ambulance_trust"
    mental_health_trust = "mental_health_trust"
    community_provider = "community_provider"
    primary_care = "primary_care"
    local_authority = "local_authority"
    health_and_wellbeing_board = "health_and_wellbeing_board"
    nhs_england = "nhs_england"
    independent_sector = "independent_sector"
    voluntary_sector = "voluntary_sector"
    other = "other"


class FundingKind(StrEnum):
    """Where a funding line's money comes from."""

    central_resilience = "central_resilience"
    """Central (non-recurrent) operational resilience funding."""
    marginal_tariff = "marginal_tariff"
    """Marginal rate emergency tariff savings to reinvest (the 70% above the 2008/09 baseline)."""
    other_local = "other_local"
    """Other funding available locally."""
    bcf_pooled = "bcf_pooled"
    """Better Care Fund pooled budget."""
    ccg_allocation = "ccg_allocation"
    """CCG baseline allocation."""
    council = "council"
    """Local authority contribution."""
    stf = "stf"
    """Sustainability and Transformation Fund."""
    other = "other"


class SchemeSection(StrEnum):
    """Which part of the plan a scheme belongs to (resilience template sections 2 and 3)."""

    minimum = "minimum"
    """Meets one or more minimum plan requirements (section 2)."""
    innovation = "innovation"
    """A local plan for innovation beyond the minimum (section 3)."""


class SchemeCategory(StrEnum):
    """The care area a scheme addresses."""

    non_elective = "non_elective"
    elective = "elective"
    prevention = "prevention"
    primary_care = "primary_care"
    community = "community"
    mental_health = "mental_health"
    social_care = "social_care"
    children = "children"
    workforce = "workforce"
    digital = "digital"
    estates = "estates"
    finance = "finance"
    governance = "governance"
    other = "other"


class StaffGroup(StrEnum):
    """Staff group of a WTE change (costings templates: nurse, doctor, other)."""

    nurse = "nurse"
    doctor = "doctor"
    ahp = "ahp"
    social_care = "social_care"
    admin = "admin"
    other = "other"


class FinancialSummaryLine(StrEnum):
    """Rows of the STP summary financial analysis (seed 002)."""

    commissioner = "commissioner"
    provider = "provider"
    footprint_nhs = "footprint_nhs"
    stf_allocation = "stf_allocation"
    after_stf = "after_stf"
    social_care = "social_care"
    total = "total"


# --- Field types -------------------------------------------------------------------------------

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ORG_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,15}$"
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
PARAMETER_PATH_PATTERN = r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)+$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def _money(value: Any) -> Decimal:
    """Money from a number; text (``"£1.2m"``, even ``"1200000"``) is refused."""
    return to_decimal(value, "amount", " in pounds")


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    PlainSerializer(decimal_number, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""An amount in pounds (Decimal in Python, a number in JSON/YAML)."""


def _date(value: Any) -> Any:
    """A date from ``YYYY-MM-DD`` text or a date; anything else is refused with a clear rule."""
    if isinstance(value, datetime):
        raise ValueError("not a valid date: expected YYYY-MM-DD, got a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError("not a valid date: expected YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("impossible date (no such day)") from None
    raise ValueError("not a valid date: expected YYYY-MM-DD text")


def _datetime(value: Any) -> Any:
    """A date-time in UTC from ISO 8601 text or a datetime.

    A time with a UTC offset is converted to UTC; one without (as older plan files and Excel
    cells hold) is read as UTC already. Plans are shared across organisations, so every time in a
    plan is an instant, written with its offset (``2015-06-01T09:30:00Z``).
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "not a valid date-time: expected ISO 8601, e.g. 2015-07-30T12:00:00Z"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    raise ValueError("not a valid date-time: expected ISO 8601 text")


PlanDate = Annotated[
    date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})
]
"""A calendar date, written ``YYYY-MM-DD``."""

PlanDateTime = Annotated[
    datetime,
    BeforeValidator(_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An instant, held in UTC and written in ISO 8601 with its offset (no offset: read as UTC)."""


def _financial_year(value: str) -> str:
    match = _FINANCIAL_YEAR.match(value)
    if match is None:
        raise ValueError("not a financial year: expected YYYY/YY, e.g. 2015/16")
    first, second = int(match.group(1)), int(match.group(2))
    if (first + 1) % 100 != second:
        raise ValueError("financial year must span two consecutive years, e.g. 2015/16")
    return value


FinancialYear = Annotated[
    str,
    AfterValidator(_financial_year),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}/\d{2}$"}),
]
"""A financial year, ``2015/16`` (1 April 2015 to 31 March 2016)."""


def financial_year_of(day: date) -> str:
    """The financial year (``2015/16``) a date falls in (years start on 1 April)."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def _email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise ValueError("not an email address (expected name@domain.tld)")
    return value


Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
OrgCode = Annotated[str, Field(pattern=ORG_CODE_PATTERN)]
Text = Annotated[str, Field(min_length=1)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Count = Annotated[int, Field(strict=True)]

_FORBID = ConfigDict(extra="forbid")


# --- People and organisations ----------------------------------------------------------------


class Member(BaseModel):
    """An organisation in the plan's footprint.

    Attributes:
        code: organisation code (ODS code such as ``RXL``, ``QE1``; ONS code for a council).
        name: organisation name.
        roles: its role(s) in the plan (at least one).
        signatory: it must sign the plan off (every SRG member must, seed 000).
        org_type: kind of organisation, when known.
    """

    model_config = _FORBID

    code: OrgCode
    name: Text
    roles: list[Role] = Field(min_length=1)
    signatory: bool = True
    org_type: OrgType | None = None


class Officer(BaseModel):
    """A named lead accountable officer (resilience template "Lead Accountable Officer").

    Attributes:
        name: person's name.
        email: email address (shape checked).
        job_title: job title.
        organisation: code of the organisation they work for (must be a plan member).
    """

    model_config = _FORBID

    name: Text
    email: Email
    job_title: Text
    organisation: OrgCode


class SignOff(BaseModel):
    """One member organisation's sign-off (recorded by the workflow).

    Attributes:
        org: code of the signing member organisation.
        user: who signed.
        at: when.
        note: optional comment.
    """

    model_config = _FORBID

    org: OrgCode
    user: Text
    at: PlanDateTime
    note: str = ""


# --- Money -------------------------------------------------------------------------------------


class FundingLine(BaseModel):
    """Money available to the plan (resilience template header).

    Attributes:
        kind: where the money comes from.
        description: what it is.
        amount_gbp: amount in pounds (≥ 0).
        year: financial year it is for.
        recurrent: true when it recurs in later years.
    """

    model_config = _FORBID

    kind: FundingKind
    description: Text
    amount_gbp: Money = Field(ge=0)
    year: FinancialYear
    recurrent: bool = False


class StatedTotals(BaseModel):
    """Totals the plan *states* (typed in by its authors); checks compare them with computed ones.

    The funding gap is total scheme cost − total funding (positive = shortfall). Each total is
    optional: state only what the plan document shows.

    Attributes:
        total_funding_gbp: stated sum of ``Plan.funding`` amounts.
        total_scheme_cost_gbp: stated sum of all scheme costs.
        minimum_requirement_cost_gbp: stated sum of ``minimum`` scheme costs (template sub-total).
        innovation_cost_gbp: stated sum of ``innovation`` scheme costs (template sub-total).
        funding_gap_gbp: stated scheme cost − funding.
    """

    model_config = _FORBID

    total_funding_gbp: Money | None = None
    total_scheme_cost_gbp: Money | None = None
    minimum_requirement_cost_gbp: Money | None = None
    innovation_cost_gbp: Money | None = None
    funding_gap_gbp: Money | None = None


class FinancialSummaryRow(BaseModel):
    """One row of the STP summary financial analysis, in £000s (surplus positive, deficit negative).

    Do something = do nothing + solutions (a check compares them).

    Attributes:
        row: which line of the summary.
        do_nothing: surplus/(deficit) if nothing changes, £000s.
        solutions: effect of the plan's solutions, £000s.
        do_something: surplus/(deficit) with the solutions, £000s.
        year: financial year the summary is for (the seed's is 2020/21), when stated.
    """

    model_config = _FORBID

    row: FinancialSummaryLine
    do_nothing: Money
    solutions: Money
    do_something: Money
    year: FinancialYear | None = None


# --- Schemes -----------------------------------------------------------------------------------


class TrajectoryPoint(BaseModel):
    """One planned value of a KPI on its way to the target.

    Attributes:
        date: the date the value applies to (period end).
        value: planned value, in the metric's unit.
    """

    model_config = _FORBID

    date: PlanDate
    value: Number


class Kpi(BaseModel):
    """A measurable indicator of a scheme, referring to a registry metric.

    Attributes:
        metric: metric id from :mod:`flowplan.metrics.registry` (``constitution.ae_4h``), or
            ``custom`` for a locally defined measure (then ``description`` and ``unit`` say what).
        description: local wording of the KPI (e.g. "Emergency admissions of known COPD
            patients"); required for ``custom``.
        unit: unit of a ``custom`` metric (registry metrics carry their own).
        baseline: value at the baseline date, in the metric's unit.
        baseline_date: when the baseline was measured.
        target: value to reach by the target date.
        target_date: when the target is due.
        trajectory: planned values between baseline and target, in date order.
        numerator: stated numerator of a ratio value (optional; checks recompute the value).
        denominator: stated denominator of a ratio value (optional).
    """

    model_config = _FORBID

    metric: Text
    description: str = ""
    unit: str | None = None
    baseline: Number
    baseline_date: PlanDate | None = None
    target: Number
    target_date: PlanDate
    trajectory: list[TrajectoryPoint] = Field(default_factory=list)
    numerator: Number | None = None
    denominator: Number | None = None

    @model_validator(mode="after")
    def _custom_described(self) -> Self:
        if self.metric == "custom" and (not self.description or not self.unit):
            raise ValueError("a 'custom' KPI needs a description and a unit")
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("give both numerator and denominator, or neither")
        return self


class SchemeCost(BaseModel):
    """Estimated net cost of a scheme in one financial year.

    Attributes:
        year: financial year.
        amount_gbp: net cost in pounds (itemised costs less expected in-year savings; may be
            negative where savings exceed costs).
        recurrent: true when the cost recurs in later years.
        description: itemisation ("1 x band 7 nurse £55,000; ...").
    """

    model_config = _FORBID

    year: FinancialYear
    amount_gbp: Money
    recurrent: bool = False
    description: str = ""


class StaffWte(BaseModel):
    """A change in staffing (whole-time equivalents) a scheme makes.

    Attributes:
        staff_group: staff group.
        wte: WTE increase (negative for a reduction).
    """

    model_config = _FORBID

    staff_group: StaffGroup
    wte: Number


class ActivityEffect(BaseModel):
    """A structured effect on activity that the simulation can apply.

    Attributes:
        target: parameter path the effect changes (``streams.ed_walk_in.volume``), or None when
            only described.
        description: the effect in words (needed when there is no ``target``).
        cohort: who is affected ("known COPD patients").
        change_pct: percentage change (−20 = a 20% reduction; ≥ −100).
        start: when the effect begins.
        end: when it ends (None = open-ended).
    """

    model_config = _FORBID

    target: str | None = Field(default=None, pattern=PARAMETER_PATH_PATTERN)
    description: str = ""
    cohort: str = ""
    change_pct: Number = Field(ge=-100)
    start: PlanDate | None = None
    end: PlanDate | None = None

    @model_validator(mode="after")
    def _target_or_description(self) -> Self:
        if self.target is None and not self.description:
            raise ValueError("an activity effect needs a target parameter path or a description")
        return self


class Scheme(BaseModel):
    """A scheme (a row of the resilience template sections 2/3, an STP initiative, a BCF scheme).

    Attributes:
        id: scheme id (``S01``), unique in the plan.
        title: short title.
        summary: summary of the plan to achieve the requirement.
        section: ``minimum`` (meets requirements) or ``innovation`` (local plan beyond them).
        category: care area.
        requirements: ids of the requirements the scheme meets (from the plan type's list).
        kpis: its KPIs.
        target_outcomes: target outcomes in words.
        start: start of the timeframe.
        end: timeframe for completion.
        lead: lead accountable officer.
        organisations: codes of the member organisations involved.
        costs: estimated net costs by financial year.
        wte: staffing changes.
        additional_beds: increase in bed capacity (negative for a reduction; non-elective
            costings template).
        activity_effects: structured effects on activity.
        funding_source: the funding kind that pays for it, when stated.
        additional_outpatient_appointments: elective template column (may be negative).
        additional_procedures: additional inpatient/day-case procedures (may be negative).
        minimum_gbp: lower end of a cost range (BCF minimum vs maximum), when stated.
        maximum_gbp: upper end of a cost range; a check flags minimum > maximum.
        workstream: the workstream it belongs to (one of ``Plan.workstreams``), when used.
        resources: resources needed, in words (STP scheme detail).
        governance: governance arrangements, in words.
    """

    model_config = _FORBID

    id: Id
    title: Text
    summary: Text
    section: SchemeSection
    category: SchemeCategory
    requirements: list[str] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
    target_outcomes: list[str] = Field(default_factory=list)
    start: PlanDate | None = None
    end: PlanDate | None = None
    lead: Officer
    organisations: list[OrgCode] = Field(default_factory=list)
    costs: list[SchemeCost] = Field(default_factory=list)
    wte: list[StaffWte] = Field(default_factory=list)
    additional_beds: Count | None = None
    activity_effects: list[ActivityEffect] = Field(default_factory=list)
    funding_source: FundingKind | None = None
    additional_outpatient_appointments: Count | None = None
    additional_procedures: Count | None = None
    minimum_gbp: Money | None = None
    maximum_gbp: Money | None = None
    workstream: str | None = None
    resources: str = ""
    governance: str = ""

    def total_cost(self, year: str | None = None) -> Decimal:
        """Sum of the scheme's costs (in ``year`` only, when given)."""
        return sum((c.amount_gbp for c in self.costs if year is None or c.year == year), Decimal(0))


# --- Delivery ----------------------------------------------------------------------------------


class Milestone(BaseModel):
    """A delivery milestone; ``depends_on`` edges form the critical-path graph (a DAG).

    Attributes:
        id: milestone id, unique in the plan.
        title: what is delivered.
        scheme: id of the scheme it belongs to, if any.
        duration_days: elapsed days of work before it is reached (≥ 0; 0 for a gate).
        depends_on: ids of milestones that must be reached first.
        due: planned date, when fixed.
        owner: who owns it.
    """

    model_config = _FORBID

    id: Id
    title: Text
    scheme: str | None = None
    duration_days: Count = Field(ge=0)
    depends_on: list[str] = Field(default_factory=list)
    due: PlanDate | None = None
    owner: str | None = None


class Risk(BaseModel):
    """A risk on the plan's register, scored on the NHS 5×5 matrix.

    ``score`` = likelihood × impact; ``grading`` and ``rag`` come from the bands in
    ``plans/requirements/risk_matrix.toml`` (National Patient Safety Agency, "A risk matrix for
    risk managers", 2008): 1–3 low, 4–6 moderate (both green), 8–12 high (amber), 15–25 extreme
    (red). They are derived properties, not stored fields.

    Attributes:
        id: risk id, unique in the plan.
        description: the risk.
        likelihood: 1 (rare) .. 5 (almost certain).
        impact: 1 (negligible) .. 5 (catastrophic).
        owner: who owns it.
        mitigation: mitigating actions.
        scheme: id of the scheme it belongs to, if any.
        contingency_gbp: money held against it, if any (BCF risk register).
    """

    model_config = _FORBID

    id: Id
    description: Text
    likelihood: Count = Field(ge=1, le=5)
    impact: Count = Field(ge=1, le=5)
    owner: Text
    mitigation: str = ""
    scheme: str | None = None
    contingency_gbp: Money | None = None

    @property
    def score(self) -> int:
        """Likelihood × impact (1..25)."""
        return self.likelihood * self.impact

    @property
    def grading(self) -> Grading:
        """NPSA grading of the score: low, moderate, high or extreme."""
        return risk_matrix().band(self.score).grading

    @property
    def rag(self) -> Rag:
        """Red/amber/green of the score (bands in ``risk_matrix.toml``)."""
        return risk_matrix().band(self.score).rag


# --- Strategy ----------------------------------------------------------------------------------


class Interdependency(BaseModel):
    """A cell of the workstream interdependency matrix: what ``from`` needs from ``to``.

    Attributes:
        from_workstream: the row workstream (one of ``Plan.workstreams``).
        to_workstream: the column workstream (another one).
        text: the dependency.
    """

    model_config = _FORBID

    from_workstream: Text
    to_workstream: Text
    text: Text


class Priority(BaseModel):
    """A plan priority (STP "P1..Pn").

    Attributes:
        id: ``P1``, ``P2``, ...
        title: short title.
        description: the priority in full.
        initiatives: ids of the schemes that deliver it.
    """

    model_config = _FORBID

    id: str = Field(pattern=r"^P\d+$")
    title: Text
    description: str = ""
    initiatives: list[str] = Field(default_factory=list)


class Enabler(BaseModel):
    """A transformational enabler (workforce, technology, estates, ...).

    Attributes:
        id: enabler id (``A``, ``E1``...).
        title: short title.
        description: the enabler in full.
        initiatives: ids of the schemes that deliver it.
    """

    model_config = _FORBID

    id: Id
    title: Text
    description: str = ""
    initiatives: list[str] = Field(default_factory=list)


class Section(BaseModel):
    """A narrative section (``1.1`` configuration, ``1.2`` strengths, ``1.3`` challenges, ...).

    Attributes:
        id: dotted number.
        title: heading.
        text: body text.
    """

    model_config = _FORBID

    id: str = Field(pattern=r"^\d+(\.\d+)*$")
    title: Text
    text: Text


# --- The plan ----------------------------------------------------------------------------------


class Plan(BaseModel):
    """A plan document. See the module docstring for conventions.

    Attributes:
        id: slug (``lsc-resilience-2015``).
        type: plan type.
        title: title.
        footprint: footprint code (``LSC-SRG``).
        period_start: first day covered.
        period_end: last day covered (after ``period_start``).
        version: document version (the workflow increments it).
        status: workflow status.
        lock_deadline: after this date the ``locked_years`` are immutable.
        locked_years: financial years that no longer change (seed 001: years 1–2 lock after the
            final 2-year plan).
        requirements_version: version of the plan type's requirement list it answers.
        lead_commissioner: member code of the lead commissioner (lead CCG).
        lead_provider: member code of the lead provider (lead acute trust).
        population: population of the footprint, when stated.
        members: organisations in the footprint.
        signoffs: sign-offs recorded by the workflow.
        funding: funding lines.
        stated_totals: totals the plan states, if it states any.
        schemes: schemes (minimum requirement and innovation).
        milestones: milestones with dependencies.
        risks: risk register.
        workstreams: workstream names (rows/columns of the interdependency matrix).
        interdependencies: interdependency matrix cells.
        priorities: priorities P1..Pn.
        enablers: transformational enablers.
        sections: narrative sections.
        financial_summary: STP summary financial analysis rows, or None.
        extensions: extension point for later modules (finance, BCF pooled budget, ...): a dict
            keyed by module name; the core neither reads nor checks it.
    """

    model_config = _FORBID

    id: str = Field(pattern=SLUG_PATTERN)
    type: PlanType
    title: Text
    footprint: OrgCode
    period_start: PlanDate
    period_end: PlanDate
    version: Count = Field(default=1, ge=1)
    status: PlanStatus = PlanStatus.draft
    lock_deadline: PlanDate | None = None
    locked_years: list[FinancialYear] = Field(default_factory=list)
    requirements_version: Text
    lead_commissioner: OrgCode | None = None
    lead_provider: OrgCode | None = None
    population: Count | None = Field(default=None, ge=0)
    members: list[Member] = Field(default_factory=list)
    signoffs: list[SignOff] = Field(default_factory=list)
    funding: list[FundingLine] = Field(default_factory=list)
    stated_totals: StatedTotals | None = None
    schemes: list[Scheme] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    workstreams: list[Text] = Field(default_factory=list)
    interdependencies: list[Interdependency] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    enablers: list[Enabler] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    financial_summary: list[FinancialSummaryRow] | None = None
    extensions: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _period_ordered(self) -> Self:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self

    # Computed values the checks and renderers share -------------------------------------------

    def member(self, code: str) -> Member | None:
        """The member with organisation code ``code``, or None."""
        return next((m for m in self.members if m.code == code), None)

    def scheme(self, scheme_id: str) -> Scheme | None:
        """The scheme called ``scheme_id``, or None."""
        return next((s for s in self.schemes if s.id == scheme_id), None)

    def financial_years(self) -> list[str]:
        """The financial years the plan period touches, in order."""
        first = int(financial_year_of(self.period_start)[:4])
        last = int(financial_year_of(self.period_end)[:4])
        return [f"{y}/{(y + 1) % 100:02d}" for y in range(first, last + 1)]

    def covered_requirements(self) -> set[str]:
        """Ids of the requirements met by at least one scheme."""
        return {rid for s in self.schemes for rid in s.requirements}

    def total_funding(self, year: str | None = None) -> Decimal:
        """Sum of the funding lines (in ``year`` only, when given)."""
        return sum(
            (f.amount_gbp for f in self.funding if year is None or f.year == year), Decimal(0)
        )

    def total_scheme_cost(
        self, year: str | None = None, section: SchemeSection | None = None
    ) -> Decimal:
        """Sum of scheme costs (in ``year`` and ``section`` only, when given)."""
        return sum(
            (s.total_cost(year) for s in self.schemes if section is None or s.section == section),
            Decimal(0),
        )

    def funding_gap(self, year: str | None = None) -> Decimal:
        """Scheme cost − funding (positive = shortfall the plan must show how it closes)."""
        return self.total_scheme_cost(year) - self.total_funding(year)


class PlanValidationError(ProblemsError):
    """A plan document broke one or more rules; each problem names the field path and value.

    A problem's ``file`` is the file name, ``row`` is 0, ``column`` the field path
    (``schemes[2].kpis[0].metric``), ``rule`` what is wrong and ``value`` the bad value.
    """


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of a plan document (what ``load_plan`` accepts)."""
    return Plan.model_json_schema(mode="validation")
