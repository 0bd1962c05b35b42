"""The Better Care Fund plan (DOMAIN.md §2.4; seed 001 Annex I): the ``bcf`` plan extension.

* :mod:`flowplan.bcf.model`: the extension's data (pooled budget, national minimum allocation,
  national conditions, metrics with baselines and ambitions, contingency, payment settings);
* :mod:`flowplan.bcf.payment`: the payment-for-performance calculator, configured by
  ``bcf/config.toml``;
* :mod:`flowplan.bcf.rules`: the assurance rules (``bcf/rules.toml``, ids ``BCF-...``);
* :mod:`flowplan.bcf.actuals`: the strict reader of actual outturns (CSV);
* :mod:`flowplan.bcf.extension`: registers the extension (validate, check, workbook sheets);
* :mod:`flowplan.bcf.report`: the payment report files (CSV and text).

Importing this package does not register the extension; ``flowplan.plans.extensions``
imports :mod:`flowplan.bcf.extension` on first use.
"""

from flowplan.bcf.model import BcfData, bcf_data
from flowplan.bcf.payment import Actual, PaymentResult, calculate_payment, load_config

__all__ = ["Actual", "BcfData", "PaymentResult", "bcf_data", "calculate_payment", "load_config"]
