"""Finance: financial plans, business rules, activity, QIPP, the gap bridge, tariff, fair shares.

* :mod:`flowplan.finance.model` — the finance part of a plan (``Plan.extensions["finance"]``);
* :mod:`flowplan.finance.rules` — the business rules as versioned configuration
  (``finance/rules.toml``, ids ``FIN-...``) and the checks on financial plans;
* :mod:`flowplan.finance.activity`, :mod:`~flowplan.finance.qipp`,
  :mod:`~flowplan.finance.bridge`, :mod:`~flowplan.finance.tariff` — the activity plan, the
  savings register, the do-nothing → do-something bridge (with its waterfall chart) and the
  tariff arithmetic (uplift, marginal rate emergency rule);
* :mod:`flowplan.finance.allocate` — fair shares on population after a central top-slice;
* :mod:`flowplan.finance.extension` — registers the ``finance`` plan extension.

Money is :class:`~decimal.Decimal` pounds throughout. This package imports nothing from the store
or the CLI.
"""

from flowplan.finance.allocate import Allocation, fair_shares, largest_remainder
from flowplan.finance.model import (
    ActivityLine,
    ActivityMeasure,
    Bridge,
    BridgeLine,
    BridgeRow,
    FinanceOrgType,
    FinancePart,
    FinanceYear,
    FinancialPlan,
    MarginalTariffLine,
    PlanningAssumptions,
    QippScheme,
    ServiceType,
    canonical,
)
from flowplan.finance.rules import FinanceRules, finance_rules, load_rules
from flowplan.finance.tariff import MarginalSplit, marginal_split, tariff_uplift

__all__ = [
    "ActivityLine",
    "ActivityMeasure",
    "Allocation",
    "Bridge",
    "BridgeLine",
    "BridgeRow",
    "FinanceOrgType",
    "FinancePart",
    "FinanceRules",
    "FinanceYear",
    "FinancialPlan",
    "MarginalSplit",
    "MarginalTariffLine",
    "PlanningAssumptions",
    "QippScheme",
    "ServiceType",
    "canonical",
    "fair_shares",
    "finance_rules",
    "largest_remainder",
    "load_rules",
    "marginal_split",
    "tariff_uplift",
]
