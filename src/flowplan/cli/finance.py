"""``flowplan finance ...``: fair shares, the marginal tariff split, the gap bridge, business rules.

* ``finance allocate --pot £3.7M --populations pops.csv [--top-slice £200K]`` — fair shares on
  (weighted) population in whole pounds that add up exactly (largest remainder method);
* ``finance marginal-tariff --baseline-value £48M --actual-value £51.5M`` — the 30%/70% split of
  emergency admissions value above the baseline (percentages from ``finance/rules.toml``);
* ``finance bridge PLAN --out DIR`` — the plan's do-nothing → do-something bridge as a waterfall
  PNG and a CSV;
* ``finance rules [--year 2015/16] [--org-type ccg]`` — the business rules in force.

Bad input is one line per problem on stderr (``FILE:ROW:COLUMN: rule — value``), exit status 2.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowplan.cli.common import DbOption, JsonOption, app, out, print_json, reports_errors
from flowplan.cli.plan import PlanArg, _resolve
from flowplan.errors import DataValidationError, Problem, UsageError
from flowplan.finance.allocate import fair_shares
from flowplan.finance.bridge import plan_bridge, write_bridge
from flowplan.finance.model import BridgeLine, FinanceOrgType
from flowplan.finance.rules import finance_rules, pct_text
from flowplan.finance.tariff import marginal_split
from flowplan.plans.money import MoneyError, format_money, parse_money

finance_app = typer.Typer(
    help="Finance: fair shares, marginal tariff, the do-nothing gap bridge, business rules.",
    no_args_is_help=True,
)
app.add_typer(finance_app, name="finance")


def _money(text: str, option: str) -> Decimal:
    """An amount option (``£3.7M``, ``3700000``), or a one-line UsageError naming the option."""
    try:
        return parse_money(text).pounds
    except MoneyError:
        raise UsageError(f"{option}: not an amount of money: {text!r}") from None


def _read_populations(path: Path) -> tuple[dict[str, int], dict[str, Decimal]]:
    """``org,population[,weight]`` rows → (populations, weights); every bad cell is a problem."""
    name = str(path)
    if not path.is_file():
        raise UsageError(f"{name}: file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name}: cannot read the file: {type(exc).__name__}") from None
    reader = csv.DictReader(text.splitlines())
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("org", "population") if c not in headers]
    if missing:
        have = ", ".join(headers) or "none"
        raise DataValidationError(
            [
                Problem(name, 1, c, "required column is missing", f"columns are: {have}")
                for c in missing
            ]
        )
    problems: list[Problem] = []
    populations: dict[str, int] = {}
    weights: dict[str, Decimal] = {}
    for number, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        org = row.get("org", "")
        if not org:
            problems.append(Problem(name, number, "org", "organisation code is blank"))
            continue
        if org in populations:
            problems.append(Problem(name, number, "org", "organisation appears twice", org))
            continue
        pop_text = row.get("population", "").replace(",", "")
        if not pop_text.isdigit():
            problems.append(
                Problem(name, number, "population", "must be a whole number ≥ 0", pop_text)
            )
            continue
        populations[org] = int(pop_text)
        weight_text = row.get("weight", "")
        if weight_text:
            try:
                weight = Decimal(weight_text)
            except InvalidOperation:
                weight = Decimal(-1)
            if not weight.is_finite() or weight <= 0:
                problems.append(
                    Problem(name, number, "weight", "must be a positive number", weight_text)
                )
                continue
            weights[org] = weight
    if problems:
        raise DataValidationError(problems)
    if not populations:
        raise DataValidationError([Problem(name, 0, "", "no organisations in the file")])
    return populations, weights


@finance_app.command("allocate")
@reports_errors
def finance_allocate(
    pot: Annotated[str, typer.Option("--pot", help="The pot to share, e.g. £3.7M.")],
    populations: Annotated[
        Path, typer.Option("--populations", help="CSV: org,population[,weight].")
    ],
    top_slice: Annotated[
        str, typer.Option("--top-slice", help="Amount kept centrally before sharing.")
    ] = "0",
    as_json: JsonOption = False,
) -> None:
    """Share a pot on population after a central top-slice, in whole pounds that add up."""
    pot_gbp = _money(pot, "--pot")
    slice_gbp = _money(top_slice, "--top-slice")
    pops, weights = _read_populations(populations)
    try:
        result = fair_shares(pot_gbp, pops, top_slice_gbp=slice_gbp, weights=weights)
    except ValueError as exc:
        raise UsageError(f"{populations}: {exc}") from None
    if as_json:
        print_json(result.as_dict())
        return
    table = Table(title=f"Fair shares of {format_money(result.distributed_gbp)}")
    for column in ("org", "population", "weight", "quota", "allocation"):
        table.add_column(column, justify="left" if column == "org" else "right")
    for org, amount in result.allocations.items():
        table.add_row(
            org,
            f"{pops[org]:,}",
            str(weights.get(org, 1)),
            format_money(result.quotas[org]),
            format_money(amount),
        )
    out.print(table)
    out.print(
        f"Pot {format_money(result.pot_gbp)} − top-slice {format_money(result.top_slice_gbp)}"
        f" = {format_money(result.distributed_gbp)} shared (largest remainder method)."
    )


@finance_app.command("marginal-tariff")
@reports_errors
def finance_marginal_tariff(
    baseline_value: Annotated[
        str, typer.Option("--baseline-value", help="Emergency admissions value at the baseline.")
    ],
    actual_value: Annotated[
        str, typer.Option("--actual-value", help="Emergency admissions value at full tariff.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Split emergency admissions value above the baseline into paid and retained."""
    baseline = _money(baseline_value, "--baseline-value")
    actual = _money(actual_value, "--actual-value")
    if baseline < 0 or actual < 0:
        raise UsageError("--baseline-value and --actual-value must not be negative")
    split = marginal_split(baseline, actual, finance_rules())
    if as_json:
        print_json(split.as_dict())
        return
    out.print(f"Above baseline: {format_money(split.above_baseline_gbp)}")
    out.print(f"Paid at {pct_text(split.paid_pct)} of tariff: {format_money(split.paid_gbp)}")
    out.print(
        f"Retained ({pct_text(split.retained_pct)}) for demand management: "
        f"{format_money(split.retained_gbp)}"
    )
    out.print(f"Total payable to the provider: {format_money(split.payable_gbp)}")


@finance_app.command("bridge")
@reports_errors
def finance_bridge(
    plan_ref: PlanArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for bridge.png and bridge.csv.")],
    line: Annotated[
        BridgeLine, typer.Option("--line", help="Which row to draw.", case_sensitive=False)
    ] = BridgeLine.total,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a plan's do-nothing → do-something bridge as a waterfall PNG and a CSV."""
    plan, _ = _resolve(plan_ref, db)
    bridge = plan_bridge(plan.extensions.get("finance"))
    written = write_bridge(bridge, out_dir, line)
    png, table, bars = written.png, written.csv, written.bars
    if as_json:
        print_json(
            {
                "png": str(png),
                "csv": str(table),
                "year": bridge.year,
                "line": str(line),
                "bars": [
                    {"label": b.label, "start": float(b.start), "end": float(b.end), "kind": b.kind}
                    for b in bars
                ],
            }
        )
        return
    for b in bars:
        out.print(f"{b.label}: {format_money(b.value)}")
    out.print(f"Wrote {png} and {table}.")


@finance_app.command("rules")
@reports_errors
def finance_rules_cmd(
    year: Annotated[
        str | None, typer.Option("--year", help="Financial year, e.g. 2015/16.")
    ] = None,
    org_type: Annotated[
        FinanceOrgType | None,
        typer.Option("--org-type", help="Organisation type.", case_sensitive=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the business rules in force (from the versioned finance rule catalogue)."""
    if year is not None:
        parts = year.split("/")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts) and len(parts[0]) == 4
        if not ok or (int(parts[0]) + 1) % 100 != int(parts[1]):
            raise UsageError(f"--year: not a financial year (YYYY/YY, e.g. 2015/16): {year!r}")
    rules = finance_rules()
    found = rules.in_force(year, None if org_type is None else str(org_type))
    if as_json:
        print_json({"version": rules.version, "rules": [r.as_dict() for r in found]})
        return
    table = Table(title=f"Finance business rules (catalogue {rules.version})")
    for column in ("rule", "org type", "year", "minimum", "title", "source"):
        table.add_column(column)
    for r in found:
        minimum = "" if r.threshold.min_pct is None else pct_text(r.threshold.min_pct)
        table.add_row(r.rule, r.org_type, r.year, minimum, r.title, r.threshold.source)
    out.print(table)
    if not found:
        out.print("No business rules in force for that year and organisation type.")
