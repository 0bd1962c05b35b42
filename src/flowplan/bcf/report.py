"""The BCF payment-for-performance report: a CSV of every tranche, condition and metric, and a
text file of the calculation step by step (called by ``make demo``)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from flowplan.bcf.actuals import read_actuals
from flowplan.bcf.payment import Actual, PaymentResult, calculate_payment
from flowplan.plans.model import Plan
from flowplan.plans.money import format_money

CSV_COLUMNS = (
    "tranche",
    "date",
    "item",
    "kind",
    "period",
    "baseline",
    "ambition",
    "actual",
    "share_achieved",
    "value_gbp",
    "paid_gbp",
    "withheld_gbp",
    "outcome",
)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _float(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def payment_rows(result: PaymentResult) -> list[dict[str, str]]:
    """The result as CSV rows: per tranche, its conditions or metrics, then a tranche row."""
    rows: list[dict[str, str]] = []
    for t in result.tranches:
        base = {"tranche": t.id, "date": t.paid_on.isoformat()}
        for c in t.conditions:
            rows.append(
                {
                    **base,
                    "item": c.id,
                    "kind": "condition",
                    "period": "",
                    "baseline": "",
                    "ambition": "",
                    "actual": c.status,
                    "share_achieved": "1" if c.status == "met" else "0",
                    "value_gbp": _money(c.value_gbp),
                    "paid_gbp": _money(c.paid_gbp),
                    "withheld_gbp": _money(c.value_gbp - c.paid_gbp),
                    "outcome": "",
                }
            )
        for m in t.metrics:
            rows.append(
                {
                    **base,
                    "item": m.metric,
                    "kind": "metric",
                    "period": m.period,
                    "baseline": _float(m.baseline),
                    "ambition": _float(m.ambition),
                    "actual": _float(m.actual),
                    "share_achieved": str(m.share_achieved),
                    "value_gbp": _money(m.value_gbp),
                    "paid_gbp": _money(m.paid_gbp),
                    "withheld_gbp": _money(m.value_gbp - m.paid_gbp),
                    "outcome": "met" if m.met else "missed",
                }
            )
        rows.append(
            {
                **base,
                "item": t.name,
                "kind": "tranche",
                "period": t.period or "",
                "baseline": "",
                "ambition": "",
                "actual": "",
                "share_achieved": str(t.share_achieved.quantize(Decimal("0.0001"))),
                "value_gbp": _money(t.amount_gbp),
                "paid_gbp": _money(t.paid_gbp),
                "withheld_gbp": _money(t.withheld_gbp),
                "outcome": t.outcome,
            }
        )
    return rows


def payment_text(result: PaymentResult) -> str:
    """The calculation as text: a summary line per tranche, then every step."""
    lines = [
        f"Better Care Fund payment for performance — plan {result.plan_id}",
        f"Configuration {result.config_version}; pool {format_money(result.pool_gbp)}",
        "",
    ]
    for t in result.tranches:
        lines.append(
            f"{t.paid_on.isoformat()}  {t.name}: amount {format_money(t.amount_gbp)}, share"
            f" achieved {t.share_achieved * 100:.2f}%, paid {format_money(t.paid_gbp)}, withheld"
            f" {format_money(t.withheld_gbp)} ({t.outcome.replace('_', ' ')})"
        )
    lines += [
        "",
        f"Total paid {format_money(result.total_paid_gbp)}; withheld"
        f" {format_money(result.total_withheld_gbp)}; released to the contingency plan"
        f" {format_money(result.released_to_contingency_gbp)}; recovery plan required:"
        f" {'yes' if result.recovery_plan_required else 'no'}",
        "",
        "Step by step:",
        *result.steps,
    ]
    return "\n".join(lines) + "\n"


def write_payment_report(
    plan: Plan, actuals: Sequence[Actual] | str | Path, out_dir: str | Path
) -> list[Path]:
    """Write the payment calculation of a BCF plan as CSV and text files.

    Args:
        plan: a BCF plan (with ``extensions.bcf``).
        actuals: the actuals, or the path of an actuals CSV file (read against the plan).
        out_dir: the folder to write into (created if missing).

    Returns:
        The paths written: ``bcf_payment_<plan id>.csv`` and ``bcf_payment_<plan id>.txt``.

    Raises:
        DataValidationError: the actuals file breaks a rule.
        UsageError: the plan has no BCF data or a value cannot be computed.
    """
    given = read_actuals(actuals, plan) if isinstance(actuals, str | Path) else list(actuals)
    result = calculate_payment(plan, given)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / f"bcf_payment_{plan.id}.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(payment_rows(result))
    text = folder / f"bcf_payment_{plan.id}.txt"
    text.write_text(payment_text(result), encoding="utf-8")
    return [table, text]
