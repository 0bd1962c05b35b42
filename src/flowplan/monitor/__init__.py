"""Monitoring: actual vs plan for plan KPIs (RAG, SPC, benefits), roll-ups from organisations to
footprints, and OPEL-style daily escalation levels.

Pure engines (no store, no CLI): :mod:`flowplan.monitor.kpis`, :mod:`flowplan.monitor.rollup`,
:mod:`flowplan.monitor.opel`; thresholds live in the versioned ``kpis.toml`` and ``opel.toml``.
:mod:`flowplan.store.monitor_inputs` reads their inputs from the store.
"""

from flowplan.monitor.kpis import KpiActuals, kpi_status, plan_kpis, scheme_benefits
from flowplan.monitor.opel import OpelConfig, episodes, level_summary, opel_levels, opel_scores
from flowplan.monitor.rollup import rollup

__all__ = [
    "KpiActuals",
    "OpelConfig",
    "episodes",
    "kpi_status",
    "level_summary",
    "opel_levels",
    "opel_scores",
    "plan_kpis",
    "rollup",
    "scheme_benefits",
]
