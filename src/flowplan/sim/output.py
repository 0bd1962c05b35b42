"""What one replication of either engine returns (the contract between engines and runner)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flowplan.sim.compiled import CompiledScenario


@dataclass(frozen=True)
class ReplicationOutput:
    """KPIs of one replication, overall and per measured day (definitions: docs/simulation.md §7).

    Attributes:
        keys: KPI names, ``kpi_names(compiled.queue_names)`` in that order.
        overall: one value per key over the whole measured period (NaN where undefined).
        daily: shape ``[days, len(keys)]``: row ``d`` is measured day ``d`` (0 = first day
            after warm-up).
        events: number of events the engine processed (for speed reporting).
    """

    keys: tuple[str, ...]
    overall: NDArray[np.float64]
    daily: NDArray[np.float64]
    events: int = 0

    def as_dict(self) -> dict[str, float]:
        """Overall KPIs by name."""
        return {k: float(v) for k, v in zip(self.keys, self.overall, strict=True)}


#: An engine: the compiled scenario and this replication's generators (one per random stream,
#: ``replication_generators(seed, replications, n_queues)[i]``) → the replication's KPIs.
Engine = Callable[[CompiledScenario, Sequence[np.random.Generator]], ReplicationOutput]
