"""Assurance categories of local systems: high risk, standard or earned autonomy.

The rule (:func:`~flowplan.assurance.category.classify`) is pure; its thresholds and look-back
are the versioned ``config.toml`` beside it. The store adapter
:mod:`flowplan.store.assurance_inputs` builds the system-level history it reads.
"""

from flowplan.assurance.category import (
    Category,
    CategoryConfig,
    Classification,
    MonthlySeries,
    StandardFigures,
    SystemHistory,
    classify,
    default_config,
    load_config,
    parse_config,
)

__all__ = [
    "Category",
    "CategoryConfig",
    "Classification",
    "MonthlySeries",
    "StandardFigures",
    "SystemHistory",
    "classify",
    "default_config",
    "load_config",
    "parse_config",
]
