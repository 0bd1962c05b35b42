"""The savings (QIPP) register: totals per organisation and year, and whether they cover the gap.

The gap is the QIPP a financial plan needs (``FinanceYear.qipp_gbp``, pounds per year). For each
organisation and year the register's savings must cover it (``FIN-QIPP-COVER``, under-planning
is an error), should not exceed it (``FIN-QIPP-OVER``, over-planning is flagged), should not
rest on unidentified savings in the detailed years (``FIN-QIPP-UNIDENTIFIED``) and should cover
it without red-rated schemes (``FIN-QIPP-RED``). Seed 001 L585 (planning fundamental 21: "clear
and credible plans for QIPP"), L1524; DOMAIN.md §2.5.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flowplan.finance.model import FinancePart, QippScheme
from flowplan.finance.rules import FinanceRules, pct_text, plan_at, share_pct
from flowplan.plans.findings import Finding
from flowplan.plans.money import format_money


@dataclass(frozen=True)
class QippTotals:
    """Savings of one organisation in one year, pounds per year.

    Attributes:
        org: organisation code.
        year: financial year.
        total_gbp: all savings.
        identified_gbp: savings of identified schemes.
        unidentified_gbp: savings still to be identified.
        red_gbp: savings of red-rated schemes.
    """

    org: str
    year: str
    total_gbp: Decimal
    identified_gbp: Decimal
    unidentified_gbp: Decimal
    red_gbp: Decimal


def qipp_totals(schemes: Sequence[QippScheme], org: str, year: str) -> QippTotals:
    """The register's savings for ``org`` in ``year`` (pounds per year)."""
    mine = [(s, s.savings_gbp.get(year, Decimal(0))) for s in schemes if s.org == org]
    total = sum((v for _, v in mine), Decimal(0))
    identified = sum((v for s, v in mine if s.identified), Decimal(0))
    red = sum((v for s, v in mine if s.rag == "red"), Decimal(0))
    return QippTotals(org, year, total, identified, total - identified, red)


def _check(part: FinancePart, rules: FinanceRules) -> Iterable[Finding]:
    cover_tol = rules.decimal("FIN-QIPP-COVER", "tolerance_gbp")
    over_tol = rules.decimal("FIN-QIPP-OVER", "tolerance_gbp")
    red_tol = rules.decimal("FIN-QIPP-RED", "tolerance_gbp")
    max_unidentified = rules.decimal("FIN-QIPP-UNIDENTIFIED", "max_unidentified_pct")
    detailed = int(rules.decimal("FIN-QIPP-UNIDENTIFIED", "detailed_years"))
    for plan in part.financial_plans:
        for n, year in enumerate(plan.years):
            need = year.qipp_gbp
            got = qipp_totals(part.qipp, plan.org, year.year)
            if need == 0 and got.total_gbp == 0:
                continue
            at = plan_at(plan, year.year, "qipp_gbp")
            if got.total_gbp < need - cover_tol:
                yield rules.finding(
                    "FIN-QIPP-COVER",
                    at,
                    f"the savings register does not cover the QIPP the plan needs in {year.year} "
                    f"(under-planned by {format_money(need - got.total_gbp)})",
                    f"register {format_money(got.total_gbp)}",
                    f"at least {format_money(need)}",
                )
            elif got.total_gbp > need + over_tol:
                yield rules.finding(
                    "FIN-QIPP-OVER",
                    at,
                    f"the savings register plans more than the QIPP the plan needs in {year.year} "
                    f"(over-planned by {format_money(got.total_gbp - need)})",
                    f"register {format_money(got.total_gbp)}",
                    f"{format_money(need)}",
                )
            share = share_pct(got.unidentified_gbp, got.total_gbp)
            if n < detailed and share > max_unidentified:
                yield rules.finding(
                    "FIN-QIPP-UNIDENTIFIED",
                    at,
                    f"{pct_text(share)} of the {year.year} savings are unidentified "
                    f"({format_money(got.unidentified_gbp)})",
                    pct_text(share),
                    f"at most {pct_text(max_unidentified)}",
                )
            if got.total_gbp >= need - cover_tol and got.total_gbp - got.red_gbp < need - red_tol:
                yield rules.finding(
                    "FIN-QIPP-RED",
                    at,
                    f"without its red-rated schemes ({format_money(got.red_gbp)}) the register "
                    f"does not cover the {year.year} QIPP need",
                    f"non-red {format_money(got.total_gbp - got.red_gbp)}",
                    f"at least {format_money(need)}",
                )


def check_qipp(part: FinancePart, rules: FinanceRules) -> list[Finding]:
    """The QIPP register against each financial plan's QIPP need, per organisation and year.

    Args:
        part: the finance part (financial plans and register).
        rules: the finance rules.
    """
    return list(_check(part, rules))
