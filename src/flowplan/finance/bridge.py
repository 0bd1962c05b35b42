"""The do-nothing gap bridge: do nothing → solutions by category → do something.

The STP summary financial analysis (seed 002 L62–L77) has rows commissioner, provider, footprint
NHS, STF (transformation funding), social care and total, and columns do nothing | solutions | do
something, with do something = do nothing + solutions (DOMAIN.md §2.3). Here money is in pounds
(the seed's template is in £000s) and the solutions column is broken down by category, so a row
can be drawn as a **waterfall**: the do-nothing bar, one floating bar per solution category, the
do-something bar.

:func:`waterfall_bars` gives the bars (testable numbers); :func:`render_waterfall` draws them with
matplotlib's object API on the Agg canvas (no display needed); :func:`bridge_csv` writes the
table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.errors import UsageError
from flowplan.finance.model import Bridge, BridgeLine, BridgeRow, FinancePart
from flowplan.finance.rules import ROOT, FinanceRules
from flowplan.plans.findings import Finding
from flowplan.plans.money import format_money

#: Row labels in the seed's words (seed 002 L71–L77).
LINE_LABELS: dict[BridgeLine, str] = {
    BridgeLine.commissioner: "Commissioner surplus / (deficit)",
    BridgeLine.provider: "Provider surplus / (deficit)",
    BridgeLine.footprint_nhs: "Footprint NHS surplus / (deficit)",
    BridgeLine.transformation_funding: "Transformation funding (STF allocation)",
    BridgeLine.social_care: "Social care surplus / (deficit)",
    BridgeLine.total: "Total surplus / (deficit)",
}
#: Sub-totals: a line = the sum of its parts (each column).
PARTS: dict[BridgeLine, tuple[BridgeLine, ...]] = {
    BridgeLine.footprint_nhs: (BridgeLine.commissioner, BridgeLine.provider),
    BridgeLine.total: (
        BridgeLine.footprint_nhs,
        BridgeLine.transformation_funding,
        BridgeLine.social_care,
    ),
}
_COLOURS = {"total": "#005EB8", "up": "#009639", "down": "#DA291C"}


@dataclass(frozen=True)
class Bar:
    """One bar of a waterfall, pounds.

    Attributes:
        label: what it shows.
        start: where the bar starts (0 for a total bar), £.
        end: where it ends, £ (``end − start`` is the bar's value).
        kind: ``total`` (do nothing, do something), ``up`` (improves) or ``down`` (worsens).
    """

    label: str
    start: Decimal
    end: Decimal
    kind: str

    @property
    def value(self) -> Decimal:
        """The bar's value, £."""
        return self.end - self.start


def waterfall_bars(row: BridgeRow) -> list[Bar]:
    """The bars of a row's waterfall: do nothing, each solution (in order), do something.

    The last bar is drawn at the stated do-something value; when the row does not add up
    (rule ``FIN-BRIDGE``) the solutions' running total and it differ.
    """
    bars = [Bar("Do nothing", Decimal(0), row.do_nothing_gbp, "total")]
    level = row.do_nothing_gbp
    for category, amount in row.solutions_gbp.items():
        bars.append(Bar(category, level, level + amount, "up" if amount >= 0 else "down"))
        level += amount
    bars.append(Bar("Do something", Decimal(0), row.do_something_gbp, "total"))
    return bars


def _millions(value: Decimal) -> str:
    return f"£{value / Decimal(1_000_000):,.1f}m"


def render_waterfall(row: BridgeRow, path: Path, *, title: str = "") -> Path:
    """Draw a row's waterfall as a PNG.

    Args:
        row: the bridge row.
        path: the PNG file to write (replaced).
        title: chart title (default: the row's label).

    Returns:
        The path written.
    """
    bars = waterfall_bars(row)
    fig = Figure(figsize=(max(6.0, 1.3 * len(bars)), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = list(range(len(bars)))
    for x, bar in zip(xs, bars, strict=True):
        low, high = sorted((float(bar.start), float(bar.end)))
        ax.bar(x, high - low, bottom=low, color=_COLOURS[bar.kind], width=0.6)
        ax.annotate(
            _millions(bar.value),
            (x, high),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    for x in xs[:-1]:
        ax.plot([x + 0.3, x + 0.7], [float(bars[x].end)] * 2, color="grey", linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(xs, [b.label for b in bars], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("Surplus / (deficit), £m")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v / 1e6:,.0f}")
    ax.set_title(title or LINE_LABELS[row.line])
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def bridge_csv(bridge: Bridge) -> str:
    """The bridge as CSV text: one row per line; a column per solution category (pounds)."""
    categories: list[str] = []
    for row in bridge.rows:
        categories.extend(c for c in row.solutions_gbp if c not in categories)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["year", "line", "do_nothing_gbp", *categories, "solutions_gbp", "do_something_gbp"]
    )
    for row in bridge.rows:
        writer.writerow(
            [
                bridge.year,
                str(row.line),
                row.do_nothing_gbp,
                *(row.solutions_gbp.get(c, "") for c in categories),
                row.solutions_total_gbp,
                row.do_something_gbp,
            ]
        )
    return buffer.getvalue()


def plan_bridge(finance: object) -> Bridge:
    """The bridge of a plan's finance extension data (``Plan.extensions["finance"]``).

    Raises:
        UsageError: the plan has no finance part or it has no bridge.
    """
    part = FinancePart.model_validate(finance) if finance is not None else None
    if part is None or part.bridge is None:
        raise UsageError("the plan has no finance bridge (extensions.finance.bridge)")
    return part.bridge


@dataclass(frozen=True)
class BridgeOutput:
    """What :func:`write_bridge` wrote: the chart, the table and the chart's bars."""

    png: Path
    csv: Path
    bars: list[Bar]


def write_bridge(
    bridge: Bridge, out_dir: Path, line: BridgeLine = BridgeLine.total
) -> BridgeOutput:
    """Write one row of a bridge as a waterfall chart and the whole bridge as a CSV.

    Returns:
        ``out_dir/bridge.png``, ``out_dir/bridge.csv`` and the bars drawn.

    Raises:
        UsageError: the bridge has no such row.
    """
    row = bridge.row(line)
    if row is None:
        have = ", ".join(str(r.line) for r in bridge.rows)
        raise UsageError(f"the bridge has no '{line}' row (rows: {have})")
    out_dir.mkdir(parents=True, exist_ok=True)
    png = render_waterfall(row, out_dir / "bridge.png", title=f"{LINE_LABELS[line]}, {bridge.year}")
    table = out_dir / "bridge.csv"
    table.write_text(bridge_csv(bridge), encoding="utf-8")
    return BridgeOutput(png, table, waterfall_bars(row))


def _row_at(row: BridgeRow, field: str) -> str:
    return f"{ROOT}.bridge.rows[{row.line}].{field}"


def _check(bridge: Bridge, rules: FinanceRules) -> Iterable[Finding]:
    tol = rules.decimal("FIN-BRIDGE", "tolerance_gbp")
    for row in bridge.rows:
        expected = row.do_nothing_gbp + row.solutions_total_gbp
        if abs(row.do_something_gbp - expected) > tol:
            yield rules.finding(
                "FIN-BRIDGE",
                _row_at(row, "do_something_gbp"),
                f"do something ≠ do nothing {format_money(row.do_nothing_gbp)} + solutions "
                f"{format_money(row.solutions_total_gbp)} ({LINE_LABELS[row.line]})",
                format_money(row.do_something_gbp),
                format_money(expected),
            )
    tol = rules.decimal("FIN-BRIDGE-TOTAL", "tolerance_gbp")
    for line, parts in PARTS.items():
        whole = bridge.row(line)
        rows = [bridge.row(p) for p in parts]
        present = [r for r in rows if r is not None]
        if whole is None or not present:
            continue
        for field in ("do_nothing_gbp", "solutions_total_gbp", "do_something_gbp"):
            stated: Decimal = getattr(whole, field)
            summed = sum((getattr(r, field) for r in present), Decimal(0))
            if abs(stated - summed) > tol:
                names = " + ".join(str(r.line) for r in present)
                yield rules.finding(
                    "FIN-BRIDGE-TOTAL",
                    _row_at(whole, field.replace("_total", "")),
                    f"{line} ≠ {names} ({field.removesuffix('_gbp').replace('_', ' ')})",
                    format_money(stated),
                    format_money(summed),
                )
    total = bridge.row(BridgeLine.total)
    if total is not None and total.do_something_gbp < 0:
        yield rules.finding(
            "FIN-BRIDGE-BALANCE",
            _row_at(total, "do_something_gbp"),
            f"with the solutions the system is still in deficit in {bridge.year}",
            format_money(total.do_something_gbp),
            "at least £0",
        )


def check_bridge(bridge: Bridge | None, rules: FinanceRules) -> list[Finding]:
    """Bridge arithmetic: each row adds up, sub-totals add up, the total is in balance.

    Args:
        bridge: the bridge, or None (nothing to check).
        rules: the finance rules.
    """
    return [] if bridge is None else list(_check(bridge, rules))
