"""The ``flowplan`` command line: one verb per job (Typer + Rich).

The commands live in modules by area and register themselves on the root app in
:mod:`flowplan.cli.common`.
"""

from flowplan.cli import assurance as _assurance  # noqa: F401  (registers assurance)
from flowplan.cli import bcf as _bcf  # noqa: F401  (registers bcf)
from flowplan.cli import capacity as _capacity  # noqa: F401  (registers the capacity commands)
from flowplan.cli import data as _data  # noqa: F401  (registers the data commands)
from flowplan.cli import demand as _demand  # noqa: F401  (registers review/forecast/backtest)
from flowplan.cli import finance as _finance  # noqa: F401  (registers finance)
from flowplan.cli import metrics as _metrics  # noqa: F401  (registers metric/trajectory/spc)
from flowplan.cli import monitor as _monitor  # noqa: F401  (registers monitor/escalation)
from flowplan.cli import plan as _plan  # noqa: F401  (registers the plan commands)
from flowplan.cli import simulate as _simulate  # noqa: F401  (registers scenario/simulate)
from flowplan.cli import waitinglist as _waitinglist  # noqa: F401  (registers waitinglist)
from flowplan.cli import web as _web  # noqa: F401  (registers serve and users)
from flowplan.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
