"""flowplan: whole-system operational resilience and capacity planning for health and care.

The public API is deliberately small; ``tests/unit/test_public_api.py`` pins it.
"""

from flowplan.data.grain import Grain
from flowplan.data.parsed import ParsedFile, QuirkWarning
from flowplan.data.readers import FORMATS, LocalTable, read, read_local_table
from flowplan.errors import (
    DataValidationError,
    FlowplanError,
    Problem,
    StoreConflictError,
    StoreError,
    UsageError,
)
from flowplan.store.store import IngestReport, Store

__version__ = "0.1.0"

__all__ = [
    "FORMATS",
    "DataValidationError",
    "FlowplanError",
    "Grain",
    "IngestReport",
    "LocalTable",
    "ParsedFile",
    "Problem",
    "QuirkWarning",
    "Store",
    "StoreConflictError",
    "StoreError",
    "UsageError",
    "__version__",
    "read",
    "read_local_table",
]
