"""Analysis pages: demand (review, forecast), capacity calculators and simulation runs.

One module per area, each with its own router, calling the flowplan engines and nothing else:

* :mod:`.demand` — ``/demand``: the review of drivers of pressure and forecasts of a stored
  series;
* :mod:`.capacity` — ``/capacity``: beds, staffing by hour, waiting-list targets and an STP's
  projection;
* :mod:`.simulation` — ``/simulation``: runs in the background with progress, their results,
  report and files.

:mod:`.shared` holds what they share: the settings and job registry kept on the app
(:func:`configure`, :func:`state_of`), kept results and charts; forms are read and sent back
with :mod:`flowplan.web.forms`. :data:`router` includes the three areas.

Who may do what: any signed-in user may open the pages, use the capacity calculators (they
change nothing) and view kept results; running a review, a forecast or a simulation needs an
analyst or footprint admin (:func:`~flowplan.web.deps.can_run_models`).
"""

from __future__ import annotations

from fastapi import APIRouter

from flowplan.web.routers.analysis import capacity, demand, simulation
from flowplan.web.routers.analysis.shared import (
    AnalysisSettings,
    AnalysisState,
    configure,
    state_of,
)

__all__ = ["AnalysisSettings", "AnalysisState", "configure", "router", "state_of"]

router = APIRouter(include_in_schema=False)
for _area in (demand, capacity, simulation):
    router.include_router(_area.router)
