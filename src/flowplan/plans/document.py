"""Read and write plan documents (YAML or JSON), with located problems for every broken rule.

``load_plan(path)`` reads a file, validates it against :class:`~flowplan.plans.model.Plan` and
then runs :func:`integrity_problems` (ids exist and are unique, references resolve); any problem
raises :class:`~flowplan.plans.model.PlanValidationError` listing all of them, each as
``FILE:0:FIELD.PATH: rule — value`` (``schemes[2].kpis[0].metric``).

``dump_plan(plan, "yaml" | "json")`` writes the whole model (every field, in model order) so that
``parse_plan(dump_plan(p, f), f) == p`` for both formats. Dates are written ``YYYY-MM-DD`` and
money as plain numbers.

YAML is read with a safe loader that keeps dates as text, so an impossible date such as
``2015-02-30`` or ``7 March 20014`` is reported against its field rather than failing the parse.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from flowplan.errors import Problem, UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.plans import requirements as reqs
from flowplan.plans.critical_path import schedule_programme
from flowplan.plans.extensions import extension_problems
from flowplan.plans.model import Plan, PlanValidationError

Format = Literal["yaml", "json"]
FORMATS: tuple[Format, ...] = ("yaml", "json")
_SUFFIXES: dict[str, Format] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_MAX_VALUE_CHARS = 80


class _PlanYamlLoader(yaml.SafeLoader):
    """Safe YAML loader that leaves timestamps as text (pydantic parses and checks them)."""


_PlanYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --- Problems ----------------------------------------------------------------------------------


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a field path.

    ``('schemes', 2, 'kpis', 0, 'metric')`` → ``schemes[2].kpis[0].metric``.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


_RULES = {
    "missing": "required field missing",
    "extra_forbidden": "unknown field (not allowed here)",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "dict_type": "must be a mapping",
}


def _rule(err: Any) -> str:
    kind = str(err["type"])
    if kind in _RULES:
        return _RULES[kind]
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def problems_from_validation(file: str, exc: ValidationError) -> list[Problem]:
    """One :class:`Problem` per pydantic error: column = field path, value = the bad input."""
    out: list[Problem] = []
    for err in exc.errors():
        value = "" if err["type"] == "missing" else _value_text(err.get("input"))
        if err["type"] == "extra_forbidden":
            value = _value_text(err.get("input"))
        out.append(Problem(file, 0, field_path(err["loc"]), _rule(err), value))
    return out


# --- Cross-field integrity ---------------------------------------------------------------------


def _duplicates(file: str, items: Iterable[tuple[str, str]], what: str) -> list[Problem]:
    """Problems for repeated ids; ``items`` are (field path, id)."""
    pairs = list(items)
    counts = Counter(key for _, key in pairs)
    return [
        Problem(file, 0, path, f"{what} id appears more than once", key)
        for path, key in pairs
        if counts[key] > 1
    ]


#: Durations beyond this many days (about 270 years) are named when a schedule overflows.
MAX_DURATION_DAYS = 100_000
OFF_CALENDAR = "the schedule runs outside the calendar"


def _schedule_problems(plan: Plan, file: str) -> list[Problem]:
    """The milestones' schedule must stay in the calendar (years 1–9999): a due date less its
    duration, or the programme's finish, beyond it is refused rather than overflowing later."""
    try:
        _ = schedule_programme(plan.milestones, plan.period_start).finish
    except OverflowError:
        named = [
            Problem(file, 0, f"milestones[{i}].duration_days", OFF_CALENDAR, str(m.duration_days))
            for i, m in enumerate(plan.milestones)
            if m.duration_days > MAX_DURATION_DAYS
        ]
        return named or [Problem(file, 0, "milestones", OFF_CALENDAR, "")]
    return []


def integrity_problems(plan: Plan, file: str = "") -> list[Problem]:
    """Cross-field checks every stored plan must pass (``load_plan`` runs them).

    Checks: the requirement list version exists for the plan type; scheme requirement ids are in
    it; KPI metrics are registry ids (or ``custom``); ids are unique (members, schemes,
    milestones, risks, priorities, enablers, sections); milestone, risk and priority/enabler
    references name existing schemes; milestone dependencies name existing milestones and form
    no cycle, and the milestones' schedule stays in the calendar; lead commissioner/provider,
    scheme leads' and involved organisations and sign-offs are members; workstreams named by
    schemes and interdependencies are in ``workstreams``.

    Args:
        plan: a validated plan.
        file: file name used in the problems.

    Returns:
        The problems found, in plan order (empty when the plan is clean).
    """
    p: list[Problem] = []
    members = {m.code for m in plan.members}
    scheme_ids = {s.id for s in plan.schemes}
    milestone_ids = {m.id for m in plan.milestones}
    workstreams = set(plan.workstreams)
    metrics = metric_registry.registry()

    try:
        req_set: reqs.RequirementSet | None = reqs.requirement_set(
            plan.type, plan.requirements_version
        )
    except UsageError as exc:  # no list of that version for the type
        req_set = None
        p.append(Problem(file, 0, "requirements_version", str(exc), plan.requirements_version))

    p += _duplicates(
        file, ((f"members[{i}].code", m.code) for i, m in enumerate(plan.members)), "member"
    )
    ids: list[tuple[str, str, list[str]]] = [
        ("scheme", "schemes", [x.id for x in plan.schemes]),
        ("milestone", "milestones", [x.id for x in plan.milestones]),
        ("risk", "risks", [x.id for x in plan.risks]),
        ("priority", "priorities", [x.id for x in plan.priorities]),
        ("enabler", "enablers", [x.id for x in plan.enablers]),
        ("section", "sections", [x.id for x in plan.sections]),
    ]
    for name, field, values in ids:
        p += _duplicates(file, ((f"{field}[{i}].id", v) for i, v in enumerate(values)), name)

    for field in ("lead_commissioner", "lead_provider"):
        code = getattr(plan, field)
        if code is not None and code not in members:
            p.append(Problem(file, 0, field, "organisation is not a plan member", code))
    for i, signoff in enumerate(plan.signoffs):
        if signoff.org not in members:
            p.append(
                Problem(
                    file, 0, f"signoffs[{i}].org", "organisation is not a plan member", signoff.org
                )
            )

    for i, scheme in enumerate(plan.schemes):
        at = f"schemes[{i}]"
        for j, rid in enumerate(scheme.requirements):
            if req_set is not None and req_set.get(rid) is None:
                p.append(
                    Problem(
                        file,
                        0,
                        f"{at}.requirements[{j}]",
                        f"unknown requirement id for a {plan.type} plan"
                        f" (requirements {req_set.version})",
                        rid,
                    )
                )
        for k, kpi in enumerate(scheme.kpis):
            if kpi.metric != metric_registry.CUSTOM_ID and kpi.metric not in metrics:
                p.append(
                    Problem(
                        file,
                        0,
                        f"{at}.kpis[{k}].metric",
                        metric_registry.unknown_metric_message(kpi.metric),
                        kpi.metric,
                    )
                )
        if scheme.lead.organisation not in members:
            p.append(
                Problem(
                    file,
                    0,
                    f"{at}.lead.organisation",
                    "scheme lead's organisation is not a plan member",
                    scheme.lead.organisation,
                )
            )
        for j, code in enumerate(scheme.organisations):
            if code not in members:
                p.append(
                    Problem(
                        file,
                        0,
                        f"{at}.organisations[{j}]",
                        "organisation is not a plan member",
                        code,
                    )
                )
        if scheme.workstream is not None and scheme.workstream not in workstreams:
            p.append(
                Problem(
                    file,
                    0,
                    f"{at}.workstream",
                    "workstream is not in the plan's workstreams",
                    scheme.workstream,
                )
            )

    for i, milestone in enumerate(plan.milestones):
        at = f"milestones[{i}]"
        if milestone.scheme is not None and milestone.scheme not in scheme_ids:
            p.append(Problem(file, 0, f"{at}.scheme", "unknown scheme", milestone.scheme))
        for j, dep in enumerate(milestone.depends_on):
            if dep not in milestone_ids:
                p.append(Problem(file, 0, f"{at}.depends_on[{j}]", "unknown milestone", dep))
            elif dep == milestone.id:
                p.append(
                    Problem(file, 0, f"{at}.depends_on[{j}]", "milestone depends on itself", dep)
                )
    graph = {
        m.id: [d for d in m.depends_on if d in milestone_ids and d != m.id] for m in plan.milestones
    }
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = [str(x) for x in exc.args[1]]
        p.append(
            Problem(file, 0, "milestones", "milestone dependencies form a cycle", " → ".join(cycle))
        )
    else:
        p += _schedule_problems(plan, file)

    for i, risk in enumerate(plan.risks):
        if risk.scheme is not None and risk.scheme not in scheme_ids:
            p.append(Problem(file, 0, f"risks[{i}].scheme", "unknown scheme", risk.scheme))
    initiatives: list[tuple[str, list[list[str]]]] = [
        ("priorities", [x.initiatives for x in plan.priorities]),
        ("enablers", [x.initiatives for x in plan.enablers]),
    ]
    for field, groups in initiatives:
        for i, group in enumerate(groups):
            for j, sid in enumerate(group):
                if sid not in scheme_ids:
                    p.append(
                        Problem(file, 0, f"{field}[{i}].initiatives[{j}]", "unknown scheme", sid)
                    )
    for i, cell in enumerate(plan.interdependencies):
        for side in ("from_workstream", "to_workstream"):
            name = getattr(cell, side)
            if name not in workstreams:
                p.append(
                    Problem(
                        file,
                        0,
                        f"interdependencies[{i}].{side}",
                        "workstream is not in the plan's workstreams",
                        name,
                    )
                )
        if cell.from_workstream == cell.to_workstream:
            p.append(
                Problem(
                    file,
                    0,
                    f"interdependencies[{i}].to_workstream",
                    "a workstream cannot depend on itself",
                    cell.to_workstream,
                )
            )
    p.extend(
        Problem(file, 0, f"extensions.{e.path}", e.rule, e.value)
        for e in extension_problems(plan.extensions)
    )
    return p


# --- Load and dump -----------------------------------------------------------------------------


def format_of(path: str | Path) -> Format:
    """The document format a file name implies (``.yaml``/``.yml`` or ``.json``).

    Raises:
        UsageError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise UsageError(f"{path}: a plan file must end in .yaml, .yml or .json")
    return _SUFFIXES[suffix]


def _fail(file: str, rule: str, value: str = "", row: int = 0) -> PlanValidationError:
    return PlanValidationError([Problem(file, row, "", rule, value)])


def _parse_text(text: str, fmt: Format, file: str) -> Any:
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(file, f"not valid JSON: {exc.msg}", row=exc.lineno) from None
    try:
        return yaml.load(text, Loader=_PlanYamlLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        row = exc.problem_mark.line + 1 if exc.problem_mark is not None else 0
        raise _fail(file, f"not valid YAML: {exc.problem or exc}", row=row) from None
    except yaml.YAMLError as exc:
        raise _fail(file, f"not valid YAML: {exc}") from None


def parse_plan(text: str, fmt: Format, file: str = "<plan>") -> Plan:
    """A plan from YAML or JSON text, validated and integrity-checked.

    Args:
        text: the document.
        fmt: ``"yaml"`` or ``"json"``.
        file: file name used in problems.

    Raises:
        PlanValidationError: the text is not valid YAML/JSON, breaks a model rule or an integrity
            rule; every problem is listed.
    """
    data = _parse_text(text, fmt, file)
    if not isinstance(data, dict):
        raise _fail(file, "a plan document must be a mapping of fields", type(data).__name__)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanValidationError(problems_from_validation(file, exc)) from None
    found = integrity_problems(plan, file)
    if found:
        raise PlanValidationError(found)
    return plan


def load_plan(path: str | Path) -> Plan:
    """Read a plan file (format from its suffix), validate it and check its integrity.

    Raises:
        UsageError: the suffix is not .yaml, .yml or .json.
        PlanValidationError: the file is missing, unreadable or breaks a rule (all listed).
    """
    path = Path(path)
    fmt = format_of(path)
    file = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(file, "file not found") from None
    except UnicodeDecodeError:
        raise _fail(file, "file is not UTF-8 text") from None
    except OSError as exc:
        raise _fail(file, "cannot read file", str(exc)) from None
    return parse_plan(text, fmt, file)


def plan_to_data(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-compatible data (dates as text, money as numbers)."""
    return plan.model_dump(mode="json")


def dump_plan(plan: Plan, format: Format = "yaml") -> str:
    """The plan as YAML or JSON text (every field, in model order).

    Raises:
        UsageError: an unknown format.
    """
    data = plan_to_data(plan)
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if format == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    raise UsageError(f"unknown plan format '{format}' (one of {', '.join(FORMATS)})")


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan to ``path`` in the format its suffix implies."""
    path = Path(path)
    path.write_text(dump_plan(plan, format_of(path)), encoding="utf-8")
