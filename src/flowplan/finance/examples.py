"""A worked finance example for the demo plan ``data/demo/plans/lsc_resilience_2015.yaml``.

FICTIONAL figures (like the rest of the demo plan): a five-year financial plan (2015/16–2019/20)
for the lead commissioner QE1 (a CCG/ICB), the lead provider RXN (an acute trust) and Lancashire
County Council (E10000017); the planning assumptions of seed 001 L853–L857 for 2015/16–2018/19
(2019/20 invented); an Annex C activity plan for QE1 in 2015/16; a QIPP register that covers
QE1's QIPP need exactly; a 2019/20 do-nothing → do-something bridge that brings the footprint
into balance; and emergency admissions values that support the plan's £2.4m marginal tariff
funding line. The example passes every finance rule: :func:`example_finance` is what the demo
plan's ``extensions.finance`` holds.

Figures below are **£ millions** per year unless said otherwise; the example converts them to
pounds. Spend ``other`` is the balancing item: spend = resource limit − contingency −
non-recurrent spend − surplus.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flowplan.finance.model import FinancePart, canonical

_M = Decimal(1_000_000)
_YEARS = ("2015/16", "2016/17", "2017/18", "2018/19", "2019/20")

# year: (recurrent RL, non-recurrent RL, contingency, non-recurrent spend, transformation,
#        surplus, QIPP need, valued risks, investment), £m
_QE1 = {
    "2015/16": ("2380", "20", "12.5", "24", "8", "24", "60", "15", "20"),
    "2016/17": ("2440", "20", "12.5", "25", "8", "25", "55", "14", "22"),
    "2017/18": ("2500", "20", "13", "26", "8", "26", "50", "13", "24"),
    "2018/19": ("2560", "20", "13", "26", "8", "26", "45", "12", "25"),
    "2019/20": ("2620", "20", "13.5", "27", "8", "27", "40", "12", "26"),
}
# Spend by service type in the two detailed years (£m; ``other`` balances).
_QE1_SPEND = {
    "2015/16": {
        "acute": "1250",
        "mental_health": "260",
        "community": "230",
        "continuing_care": "120",
        "primary_care": "90",
        "prescribing": "300",
        "running_costs": "45",
    },
    "2016/17": {
        "acute": "1280",
        "mental_health": "268",
        "community": "236",
        "continuing_care": "125",
        "primary_care": "92",
        "prescribing": "312",
        "running_costs": "40.5",
    },
}
_QE1_CONTRACTS = {"RXN": "420", "RXL": "310", "RXR": "350", "RTX": "150", "RX7": "60"}
_RXN = {  # income, contingency, surplus (£m); no business rules for providers in seed 001
    "2015/16": ("520", "3", "5"),
    "2016/17": ("530", "3", "5"),
    "2017/18": ("541", "3", "5.5"),
    "2018/19": ("552", "3", "5.5"),
    "2019/20": ("563", "3", "6"),
}
_COUNCIL = {  # adult social care budget, contingency (£m); balanced (no surplus)
    "2015/16": ("380", "2"),
    "2016/17": ("372", "2"),
    "2017/18": ("368", "2"),
    "2018/19": ("365", "2"),
    "2019/20": ("362", "2"),
}
# QIPP schemes: id, title, service line, owner, RAG, identified, savings per year (£m)
_QIPP = (
    (
        "Q01",
        "Non-elective admission avoidance (frail elderly, COPD)",
        "acute",
        "Alex Example",
        "amber",
        True,
        ("22", "20", "18", "16", "14"),
    ),
    (
        "Q02",
        "Outpatient follow-up reduction",
        "acute",
        "Chris Imaginary",
        "green",
        True,
        ("12", "11", "10", "9", "8"),
    ),
    (
        "Q03",
        "Medicines optimisation",
        "prescribing",
        "Dr Casey Demo",
        "green",
        True,
        ("14", "13", "12", "10", "9"),
    ),
    (
        "Q04",
        "Continuing healthcare review",
        "continuing_care",
        "Morgan Fictional",
        "amber",
        True,
        ("8", "7", "6", "5", "4"),
    ),
    (
        "Q05",
        "Running cost reduction",
        "running_costs",
        "Jamie Madeup",
        "green",
        True,
        ("4", "4", "3", "3", "3"),
    ),
    (
        "Q06",
        "Savings still to identify",
        "other",
        "Alex Example",
        "amber",
        False,
        (None, None, "1", "2", "2"),
    ),
)
# Annex C activity, QE1 2015/16: measure, baseline, demographic %, non-demographic %,
# scheme savings, plan (units/year), price (£ per unit or None)
_ACTIVITY = (
    ("elective_ordinary", 42_000, "1.0", "1.0", 600, 42_240, 3_300),
    ("elective_day_case", 160_000, "1.0", "2.0", 2_000, 162_800, 700),
    ("non_elective", 170_000, "1.0", "1.5", 5_250, 169_000, 1_600),
    ("outpatient_first", 420_000, "1.0", "1.0", 4_400, 424_000, 160),
    ("outpatient_follow_up", 900_000, "1.0", "0.5", 23_500, 890_000, 90),
    ("ae_type1", 480_000, "1.0", "1.5", 12_000, 480_000, 125),
    ("ae_all_types", 650_000, "1.0", "2.0", 14_500, 655_000, None),
    ("gp_referrals", 300_000, "1.0", "0.5", 4_500, 300_000, None),
    ("other_referrals", 140_000, "1.0", "0.5", 2_100, 140_000, None),
)
# Planning assumptions: efficiency, secondary care / prescribing / continuing care inflation,
# demographic and non-demographic growth, tariff uplift (%); seed 001 L853–L857 to 2018/19.
_ASSUMPTIONS = {
    "2015/16": ("4.0", "2.2", "5.0", "3.0", "1.0", "1.2", "-1.8"),
    "2016/17": ("4.0", "3.0", "5.0", "3.0", "1.0", "1.2", "-1.0"),
    "2017/18": ("4.0", "3.4", "5.0", "3.0", "0.9", "1.2", "-0.6"),
    "2018/19": ("4.0", "3.4", "5.0", "3.0", "0.9", "1.2", "-0.6"),
    "2019/20": ("2.0", "2.5", "5.0", "3.0", "0.9", "1.2", "0.5"),
}
# Bridge 2019/20 (£m): line → do nothing, {solution category: amount}
_BRIDGE: dict[str, tuple[str, dict[str, str]]] = {
    "commissioner": ("-38", {"QIPP": "30", "Demand management": "8"}),
    "provider": ("-52", {"Provider efficiency": "40"}),
    "footprint_nhs": (
        "-90",
        {"QIPP": "30", "Demand management": "8", "Provider efficiency": "40"},
    ),
    "transformation_funding": ("0", {"Transformation funding": "14"}),
    "social_care": ("-25", {"Social care efficiencies": "25"}),
    "total": (
        "-115",
        {
            "QIPP": "30",
            "Demand management": "8",
            "Provider efficiency": "40",
            "Transformation funding": "14",
            "Social care efficiencies": "25",
        },
    ),
}


def _m(text: str) -> Decimal:
    return Decimal(text) * _M


def _qe1_year(year: str) -> dict[str, Any]:
    rec, nrl, cont, nr, trans, surplus, qipp, risks, invest = (_m(v) for v in _QE1[year])
    spend = rec + nrl - cont - nr - surplus
    out: dict[str, Any] = {
        "year": year,
        "resource_limit_recurrent_gbp": rec,
        "resource_limit_non_recurrent_gbp": nrl,
        "contingency_gbp": cont,
        "non_recurrent_spend_gbp": nr,
        "transformation_gbp": trans,
        "surplus_gbp": surplus,
        "qipp_gbp": qipp,
        "risks_gbp": risks,
        "investment_gbp": invest,
    }
    if year in _QE1_SPEND:
        detail = {k: _m(v) for k, v in _QE1_SPEND[year].items()}
        detail["other"] = spend - sum(detail.values(), Decimal(0))
        out["spend_gbp"] = detail
        out["contracts"] = [
            {"counterparty": c, "value_gbp": _m(v)} for c, v in _QE1_CONTRACTS.items()
        ]
    else:
        out["spend_total_gbp"] = spend
    return out


def _provider_year(year: str, detailed: bool) -> dict[str, Any]:
    income, cont, surplus = (_m(v) for v in _RXN[year])
    spend = income - cont - surplus
    out: dict[str, Any] = {
        "year": year,
        "resource_limit_recurrent_gbp": income,
        "contingency_gbp": cont,
        "surplus_gbp": surplus,
    }
    if detailed:
        out["spend_gbp"] = {"community": _m("8"), "acute": spend - _m("8")}
    else:
        out["spend_total_gbp"] = spend
    return out


def _council_year(year: str, detailed: bool) -> dict[str, Any]:
    budget, cont = (_m(v) for v in _COUNCIL[year])
    spend = budget - cont
    out: dict[str, Any] = {
        "year": year,
        "resource_limit_recurrent_gbp": budget,
        "contingency_gbp": cont,
    }
    if detailed:
        out["spend_gbp"] = {"social_care": spend - _m("40"), "other": _m("40")}
    else:
        out["spend_total_gbp"] = spend
    return out


def example_part(
    commissioner: str = "QE1", provider: str = "RXN", council: str = "E10000017"
) -> FinancePart:
    """The worked example as a model (organisation codes may be changed for other plans)."""
    bridge_rows = []
    for line, (nothing, solutions) in _BRIDGE.items():
        sol = {k: _m(v) for k, v in solutions.items()}
        bridge_rows.append(
            {
                "line": line,
                "do_nothing_gbp": _m(nothing),
                "solutions_gbp": sol,
                "do_something_gbp": _m(nothing) + sum(sol.values(), Decimal(0)),
            }
        )
    data: dict[str, Any] = {
        "financial_plans": [
            {"org": commissioner, "org_type": "ccg", "years": [_qe1_year(y) for y in _YEARS]},
            {
                "org": provider,
                "org_type": "provider",
                "years": [_provider_year(y, n < 2) for n, y in enumerate(_YEARS)],
            },
            {
                "org": council,
                "org_type": "local_authority",
                "years": [_council_year(y, n < 2) for n, y in enumerate(_YEARS)],
            },
        ],
        "assumptions": [
            {
                "year": year,
                "provider_efficiency_pct": Decimal(a[0]),
                "inflation_pct": {
                    "secondary_care": Decimal(a[1]),
                    "prescribing": Decimal(a[2]),
                    "continuing_care": Decimal(a[3]),
                },
                "demographic_growth_pct": Decimal(a[4]),
                "non_demographic_growth_pct": Decimal(a[5]),
                "tariff_uplift_pct": Decimal(a[6]),
            }
            for year, a in _ASSUMPTIONS.items()
        ],
        "activity": [
            {
                "org": commissioner,
                "year": "2015/16",
                "measure": measure,
                "baseline": baseline,
                "demographic_growth_pct": Decimal(dem),
                "non_demographic_growth_pct": Decimal(nondem),
                "scheme_savings": savings,
                "plan": plan,
                **({} if price is None else {"price_gbp": price}),
            }
            for measure, baseline, dem, nondem, savings, plan, price in _ACTIVITY
        ],
        "qipp": [
            {
                "id": sid,
                "org": commissioner,
                "title": title,
                "service_line": line,
                "owner": owner,
                "rag": rag,
                "identified": identified,
                "savings_gbp": {
                    y: _m(v) for y, v in zip(_YEARS, savings, strict=True) if v is not None
                },
            }
            for sid, title, line, owner, rag, identified, savings in _QIPP
        ],
        "bridge": {"year": "2019/20", "rows": bridge_rows},
        "marginal_tariff": [
            {
                "org": commissioner,
                "provider": provider,
                "year": "2015/16",
                "baseline_value_gbp": _m("48"),
                "actual_value_gbp": _m("51.5"),
            }
        ],
    }
    return FinancePart.model_validate(data)


def example_finance(
    commissioner: str = "QE1", provider: str = "RXN", council: str = "E10000017"
) -> dict[str, Any]:
    """The worked example's finance part in canonical dict form (``extensions: finance:``).

    Args:
        commissioner: the commissioner's member code (business rules for a CCG).
        provider: the acute provider's member code.
        council: the council's member code.
    """
    return canonical(example_part(commissioner, provider, council))
