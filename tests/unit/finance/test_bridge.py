"""Do-nothing gap bridge: do something = do nothing + solutions (seed 002 L69–L77); waterfall."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flowplan.finance.bridge import bridge_csv, check_bridge, render_waterfall, waterfall_bars
from flowplan.finance.examples import example_part
from flowplan.finance.model import Bridge, BridgeLine
from flowplan.finance.rules import finance_rules

RULES = finance_rules()
M = Decimal(1_000_000)


def demo_bridge() -> Bridge:
    bridge = example_part().bridge
    assert bridge is not None
    return bridge


def edit(bridge: Bridge, line: str, **update: Any) -> Bridge:
    rows = [r.model_copy(update=update) if r.line == line else r for r in bridge.rows]
    return bridge.model_copy(update={"rows": rows})


def test_demo_bridge_adds_up() -> None:
    bridge = demo_bridge()
    assert check_bridge(bridge, RULES) == []
    total = bridge.row(BridgeLine.total)
    assert total is not None
    # −£115m do nothing + £117m of solutions = £2m surplus in 2019/20.
    assert (total.do_nothing_gbp, total.solutions_total_gbp, total.do_something_gbp) == (
        -115 * M,
        117 * M,
        2 * M,
    )


def test_row_arithmetic_tolerance() -> None:
    bridge = demo_bridge()
    # social care: −£25m + £25m = £0; £2 off breaks the row (and the total's sum of parts).
    off = edit(bridge, "social_care", do_something_gbp=Decimal(2))
    rules = [(f.rule, f.location) for f in check_bridge(off, RULES)]
    assert ("FIN-BRIDGE", "extensions.finance.bridge.rows[social_care].do_something_gbp") in rules
    one = edit(bridge, "social_care", do_something_gbp=Decimal(1))
    assert "FIN-BRIDGE" not in [f.rule for f in check_bridge(one, RULES)]


def test_sub_totals() -> None:
    bridge = demo_bridge()
    off = edit(bridge, "footprint_nhs", do_nothing_gbp=-91 * M, do_something_gbp=-13 * M)
    found = [(f.rule, f.location, f.stated, f.expected) for f in check_bridge(off, RULES)]
    assert (
        "FIN-BRIDGE-TOTAL",
        "extensions.finance.bridge.rows[footprint_nhs].do_nothing_gbp",
        "-£91,000,000",
        "-£90,000,000",
    ) in found


def test_deficit_after_solutions_is_flagged() -> None:
    bridge = demo_bridge()
    rows = {r.line: r for r in bridge.rows}
    total = rows[BridgeLine.total]
    short = edit(
        bridge,
        "total",
        solutions_gbp={**total.solutions_gbp, "QIPP": 27 * M},
        do_something_gbp=-1 * M,
    )
    found = [f.rule for f in check_bridge(short, RULES)]
    assert "FIN-BRIDGE-BALANCE" in found
    assert check_bridge(None, RULES) == []


def test_waterfall_bars() -> None:
    total = demo_bridge().row(BridgeLine.total)
    assert total is not None
    bars = waterfall_bars(total)
    assert [(b.label, int(b.start / M), int(b.end / M), b.kind) for b in bars] == [
        ("Do nothing", 0, -115, "total"),
        ("QIPP", -115, -85, "up"),
        ("Demand management", -85, -77, "up"),
        ("Provider efficiency", -77, -37, "up"),
        ("Transformation funding", -37, -23, "up"),
        ("Social care efficiencies", -23, 2, "up"),
        ("Do something", 0, 2, "total"),
    ]


def test_waterfall_png_and_csv(tmp_path: Path) -> None:
    bridge = demo_bridge()
    total = bridge.row(BridgeLine.total)
    assert total is not None
    png = render_waterfall(total, tmp_path / "bridge.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = bridge_csv(bridge).splitlines()
    assert text[0] == (
        "year,line,do_nothing_gbp,QIPP,Demand management,Provider efficiency,"
        "Transformation funding,Social care efficiencies,solutions_gbp,do_something_gbp"
    )
    assert text[-1] == (
        "2019/20,total,-115000000,30000000,8000000,40000000,14000000,25000000,117000000,2000000"
    )
