"""Plan on a page: its content, the critical-path chart, the HTML page and the PDF."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import matplotlib.dates as mdates
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from flowplan.errors import UsageError
from flowplan.plans import (
    FinancialSummaryLine,
    FinancialSummaryRow,
    FundingKind,
    Milestone,
    Plan,
    Risk,
    StatedTotals,
    load_plan,
)
from flowplan.plans.onepage import (
    CRITICAL_COLOUR,
    NON_CRITICAL_COLOUR,
    SLACK_COLOUR,
    TOP_RISKS,
    OnePage,
    OnePageResult,
    build_pdf,
    critical_path_chart,
    onepage_content,
    pdf_page_count,
    render_html,
    render_onepage,
    sparkline_points,
    top_risks,
)

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
CRITICAL_IDS = ("M01", "M02", "M07", "M14")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(DEMO)


@pytest.fixture(scope="module")
def content(plan: Plan) -> OnePage:
    return onepage_content(plan)


@pytest.fixture(scope="module")
def rendered(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> OnePageResult:
    return render_onepage(plan, tmp_path_factory.mktemp("onepage") / "out")


@pytest.fixture(scope="module")
def chart(plan: Plan) -> Figure:
    return critical_path_chart(plan)


def _bars(figure: Figure, prefix: str) -> dict[str, Rectangle]:
    axis = figure.axes[0]
    return {
        str(p.get_gid()).split(":", 1)[1]: p
        for p in axis.patches
        if isinstance(p, Rectangle) and str(p.get_gid()).startswith(prefix)
    }


# --- Content ------------------------------------------------------------------------------------


def test_money_block_holds_the_demo_totals(content: OnePage) -> None:
    money = content.money
    assert money.total_funding_gbp == Decimal(6_600_000)
    assert money.scheme_cost_gbp == Decimal(7_039_000)
    assert money.gap_gbp == Decimal(439_000)
    assert (money.total_funding, money.scheme_cost, money.gap) == (
        "£6,600,000",
        "£7,039,000",
        "£439,000",
    )
    assert money.gap_state == "shortfall"
    assert (money.minimum_cost, money.innovation_cost) == ("£6,520,000", "£519,000")
    assert [(f.kind, f.amount) for f in money.funding] == [
        (FundingKind.central_resilience, "£3,600,000"),
        (FundingKind.marginal_tariff, "£2,400,000"),
        (FundingKind.other_local, "£600,000"),
    ]
    # One financial year and stated totals that match: no per-year table, no notes.
    assert money.years == () and money.notes == () and money.summary is None


def test_funding_lines_of_one_kind_are_added_up(plan: Plan) -> None:
    extra = plan.funding[0].model_copy(update={"amount_gbp": Decimal(400_000)})
    money = onepage_content(plan.model_copy(update={"funding": [*plan.funding, extra]})).money
    central = next(f for f in money.funding if f.kind is FundingKind.central_resilience)
    assert (central.amount, central.lines) == ("£4,000,000", 2)
    assert money.gap == "£39,000" and money.gap_state == "shortfall"


def test_header_names_the_footprint_and_leads(content: OnePage) -> None:
    header = content.header
    assert header.footprint == "LSC-SRG"
    assert header.period == "1 Apr 2015 – 31 Mar 2016"
    assert header.financial_years == ("2015/16",)
    assert header.population == "1,700,000"
    assert header.lead_commissioner == "NHS Lancashire and South Cumbria ICB (QE1)"
    assert header.lead_provider == "Lancashire Teaching Hospitals NHS Foundation Trust (RXN)"
    assert len(header.members) == 7


def test_priorities_carry_their_initiatives_and_cost(plan: Plan, content: OnePage) -> None:
    assert [p.id for p in content.priorities] == [p.id for p in plan.priorities]
    assert len(content.priorities) == 5
    p1 = content.priorities[0]
    assert p1.title == "Care closer to home"
    assert [i.id for i in p1.initiatives] == ["S03", "S09", "S17", "S19"]
    assert p1.initiatives[0].title == "Extended-hours primary care and ambulatory care hubs"
    assert p1.initiatives[0].cost == "£1,450,000"
    assert p1.cost == "£2,085,000"  # 1,450,000 + 145,000 + 80,000 + 410,000
    assert [e.id for e in content.enablers] == ["E1", "E2", "E3"]


def test_kpi_rows_show_baseline_target_and_trajectory(plan: Plan, content: OnePage) -> None:
    assert len(content.kpis) == sum(len(s.kpis) for s in plan.schemes) == 23
    occupancy = content.kpis[0]
    assert (occupancy.scheme_id, occupancy.metric) == ("S01", "uec.ga_bed_occupancy")
    assert occupancy.name == "General & acute bed occupancy"
    assert (occupancy.baseline_text, occupancy.target_text) == ("95.1%", "92%")
    assert occupancy.target_date_text == "Mar 2016"
    assert occupancy.priority_ids == ("P5",)
    assert occupancy.trajectory == (
        (date(2015, 3, 31), 95.1),
        (date(2015, 6, 30), 94.5),
        (date(2015, 9, 30), 93.6),
        (date(2015, 12, 31), 92.8),
        (date(2016, 3, 31), 92.0),
    )
    assert occupancy.direction == "lower_is_better" and occupancy.improving is True
    assert len(occupancy.sparkline.split()) == 5
    copd = next(k for k in content.kpis if k.scheme_id == "S17")
    assert (copd.name, copd.unit) == (
        "Emergency admissions of known COPD patients",
        "admissions per year",
    )
    assert (copd.baseline_text, copd.target_text) == ("410", "328")
    assert copd.improving is None  # a custom KPI has no registry direction
    # Baseline and target only: a two-point trajectory.
    dos = next(k for k in content.kpis if k.scheme_id == "S02")
    assert dos.trajectory == ((date(2015, 3, 31), 91.8), (date(2016, 3, 31), 95.0))


def test_top_risks_are_red_first_then_by_score(content: OnePage) -> None:
    assert content.risk_count == 6
    assert content.risk_rag_counts == {"red": 2, "amber": 2, "green": 2}
    assert len(content.risks) == TOP_RISKS == 5
    top = content.risks[0]
    assert (top.id, top.rag, top.score, top.grading) == ("R01", "red", 16, "extreme")
    assert [(r.id, r.rag, r.score) for r in content.risks] == [
        ("R01", "red", 16),
        ("R02", "red", 15),
        ("R03", "amber", 12),
        ("R04", "amber", 12),
        ("R05", "green", 6),
    ]


def test_top_risks_order_ties_by_id_and_limits() -> None:
    def risk(rid: str, likelihood: int, impact: int) -> Risk:
        return Risk(id=rid, description="d", likelihood=likelihood, impact=impact, owner="o")

    risks = [risk("B", 3, 4), risk("A", 4, 3), risk("C", 1, 1), risk("D", 5, 5)]
    assert [r.id for r in top_risks(risks)] == ["D", "A", "B", "C"]
    assert [r.id for r in top_risks(risks, limit=2)] == ["D", "A"]


def test_critical_path_rows_come_from_the_cpm_timings(content: OnePage) -> None:
    block = content.critical_path
    assert block is not None
    assert block.path == CRITICAL_IDS
    assert block.duration_days == 140  # 0 + 45 + 90 + 5
    # Day 0 is the first milestone's own date: M01 (a 0-day gate) is due 15 April 2015.
    assert block.start == date(2015, 4, 15)
    assert block.finish == date(2015, 4, 15) + timedelta(days=140) == date(2015, 9, 2)
    assert tuple(r.id for r in block.critical_rows) == CRITICAL_IDS
    assert len(block.rows) == 14
    by_id = {r.id: r for r in block.rows}
    assert by_id["M07"].start == date(2015, 5, 30) and by_id["M07"].finish == date(2015, 8, 28)
    assert (by_id["M06"].slack_days, by_id["M06"].critical) == (5, False)  # 130 vs 135 days
    assert by_id["M14"].due == date(2015, 10, 31) and not by_id["M14"].late
    assert block.late_rows == ()


def test_a_milestone_finishing_after_its_due_date_is_late(plan: Plan) -> None:
    milestones = [
        m.model_copy(update={"due": date(2015, 5, 1)}) if m.id == "M02" else m
        for m in plan.milestones
    ]
    block = onepage_content(plan.model_copy(update={"milestones": milestones})).critical_path
    assert block is not None
    assert [r.id for r in block.late_rows] == ["M02"]  # finishes 16 May


def test_a_dependency_cycle_gives_a_note_not_a_schedule(plan: Plan) -> None:
    looped = plan.model_copy(
        update={
            "milestones": [
                Milestone(id="A", title="a", duration_days=3, depends_on=["B"]),
                Milestone(id="B", title="b", duration_days=4, depends_on=["A"]),
            ]
        }
    )
    block = onepage_content(looped).critical_path
    assert block is not None and block.rows == ()
    assert "cycle" in block.note
    figure = critical_path_chart(looped)
    assert _bars(figure, "milestone:") == {}
    assert any("cycle" in t.get_text() for t in figure.axes[0].texts)


def test_stp_financial_summary_and_stated_total_notes(plan: Plan) -> None:
    summary = [
        FinancialSummaryRow(
            row=FinancialSummaryLine.commissioner,
            do_nothing=Decimal(-12_500),
            solutions=Decimal(9_000),
            do_something=Decimal(-3_500),
            year="2020/21",
        ),
        FinancialSummaryRow(
            row=FinancialSummaryLine.total,
            do_nothing=Decimal(-20_000),
            solutions=Decimal(20_000),
            do_something=Decimal(0),
        ),
    ]
    stated = StatedTotals(total_funding_gbp=Decimal(6_600_000), funding_gap_gbp=Decimal(400_000))
    money = onepage_content(
        plan.model_copy(update={"financial_summary": summary, "stated_totals": stated})
    ).money
    assert money.summary is not None and money.summary_year == "2020/21"
    assert [(r.label, r.do_nothing, r.solutions, r.do_something) for r in money.summary] == [
        ("Commissioner surplus / (deficit)", "(12,500)", "9,000", "(3,500)"),
        ("Total surplus / (deficit)", "(20,000)", "20,000", "–"),
    ]
    assert money.notes == ("The plan states funding gap £400,000; its rows add up to £439,000.",)


def test_sparkline_points_scale_dates_and_values() -> None:
    start = date(2015, 1, 1)
    points = [(start, 0.0), (start + timedelta(days=5), 5.0), (start + timedelta(days=10), 10.0)]
    assert sparkline_points(points, width=72, height=16) == "1.5,14.5 36.0,8.0 70.5,1.5"
    flat = [(start, 3.0), (start + timedelta(days=10), 3.0)]
    assert sparkline_points(flat, width=72, height=16) == "1.5,8.0 70.5,8.0"
    assert sparkline_points([(start, 1.0)]) == ""


# --- Chart --------------------------------------------------------------------------------------


def test_chart_has_one_bar_per_milestone_in_the_critical_colour(
    plan: Plan, content: OnePage, chart: Figure
) -> None:
    bars = _bars(chart, "milestone:")
    assert sorted(bars) == sorted(m.id for m in plan.milestones)
    assert content.critical_path is not None
    for row in content.critical_path.rows:
        bar = bars[row.id]
        expected = CRITICAL_COLOUR if row.critical else NON_CRITICAL_COLOUR
        assert bar.get_facecolor() == to_rgba(expected), row.id
        assert bar.get_x() == pytest.approx(mdates.date2num(row.start))
        assert bar.get_width() == pytest.approx(row.duration_days)
    assert {i for i, b in bars.items() if b.get_facecolor() == to_rgba(CRITICAL_COLOUR)} == set(
        CRITICAL_IDS
    )


def test_chart_draws_slack_as_a_lighter_tail(content: OnePage, chart: Figure) -> None:
    tails = _bars(chart, "slack:")
    assert content.critical_path is not None
    with_slack = {r.id: r for r in content.critical_path.rows if r.slack_days > 0}
    assert set(tails) == set(with_slack) and not set(tails) & set(CRITICAL_IDS)
    m06 = tails["M06"]
    assert m06.get_facecolor() == to_rgba(SLACK_COLOUR)
    assert m06.get_x() == pytest.approx(mdates.date2num(with_slack["M06"].finish))
    assert m06.get_width() == pytest.approx(5)


def test_chart_x_axis_is_in_dates_from_the_programme_start(chart: Figure) -> None:
    axis = chart.axes[0]
    low, high = axis.get_xlim()
    start = mdates.num2date(low).date()
    assert date(2015, 4, 8) <= start <= date(2015, 4, 15)  # M01 is due 15 April 2015
    assert mdates.num2date(high).date() >= date(2015, 10, 31)  # the latest due date shows
    labels = [t.get_text() for t in axis.get_yticklabels()]
    assert labels[0].startswith("M01 ") and len(labels) == 14
    assert "M01 → M02 → M07 → M14" in axis.get_title(loc="left")


# --- HTML ---------------------------------------------------------------------------------------


def test_render_writes_html_pdf_and_chart(rendered: OnePageResult) -> None:
    assert rendered.html_path.name == "lsc-resilience-2015-onepage.html"
    assert rendered.pdf_path is not None and rendered.chart_path is not None
    assert rendered.paths() == [rendered.html_path, rendered.pdf_path, rendered.chart_path]
    assert rendered.chart_path.read_bytes().startswith(b"\x89PNG")


def test_html_shows_priorities_gap_and_critical_milestones(
    plan: Plan, rendered: OnePageResult
) -> None:
    page = rendered.html_path.read_text(encoding="utf-8")
    for priority in plan.priorities:
        assert html.escape(priority.title) in page
    assert "Funding gap: <strong>£439,000</strong>" in page
    assert "£6,600,000" in page and "£7,039,000" in page
    for milestone_id in CRITICAL_IDS:
        assert f"<b>{milestone_id}</b>" in page
    assert "General &amp; acute bed occupancy" in page
    assert page.count("<polyline ") == 23
    assert "R01</b> Nurses and social workers cannot be recruited in time for winter" in page


def test_html_is_self_contained_and_prints_on_a4_landscape(rendered: OnePageResult) -> None:
    page = rendered.html_path.read_text(encoding="utf-8")
    assert "size: A4 landscape" in page
    assert "data:image/png;base64," in page
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "<link" not in page and "<script" not in page


def test_html_shows_the_stp_summary_and_escapes_text(plan: Plan) -> None:
    summary = [
        FinancialSummaryRow(
            row=FinancialSummaryLine.total,
            do_nothing=Decimal(-20_000),
            solutions=Decimal(15_000),
            do_something=Decimal(-5_000),
            year="2020/21",
        )
    ]
    risky = plan.model_copy(
        update={"financial_summary": summary, "title": "Plan <script>alert(1)</script>"}
    )
    page = render_html(onepage_content(risky), None, "now")
    assert "STP 2020/21 summary financial analysis (£000s)" in page
    assert "(20,000)" in page and "(5,000)" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_is_one_a4_landscape_page(rendered: OnePageResult) -> None:
    assert rendered.pdf_path is not None
    data = rendered.pdf_path.read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_page_count(data) == 1
    # A4 landscape is 841.89 × 595.28 points.
    assert re.search(rb"/MediaBox \[0 0 841\.89 595\.28\]", data)
    assert len(data) > 20_000  # the fonts and the chart are embedded


def test_pdf_draws_the_content_with_an_embedded_unicode_font(
    plan: Plan, content: OnePage, chart: Figure
) -> None:
    document = build_pdf(content, None, compress=False)
    assert document.pages == pdf_page_count(document.data) == 1
    text = "\n".join(document.text)
    for priority in plan.priorities:
        assert priority.title in text
    assert "£439,000" in text and "£6,600,000" in text and "£7,039,000" in text
    assert "Funding gap (cost above funding)" in text
    assert "Top risks (6: 2 red, 2 amber, 2 green)" in text
    assert "Key performance indicators (23)" in text
    assert "95.1%" in text
    assert b"DejaVuSans" in document.data and b"/ToUnicode" in document.data
    assert b"/Title (Lancashire & South Cumbria SRG" in document.data


def test_pdf_embeds_the_chart_image(content: OnePage, rendered: OnePageResult) -> None:
    assert rendered.chart_path is not None
    with_chart = build_pdf(content, rendered.chart_path.read_bytes(), compress=False)
    without = build_pdf(content, None, compress=False)
    assert with_chart.data.count(b"/Subtype /Image") == 1
    assert b"/Subtype /Image" not in without.data


def test_pdf_continues_long_kpi_tables_on_a_second_page(plan: Plan) -> None:
    many = [s.model_copy(update={"id": f"{s.id}x{i}"}) for i in range(3) for s in plan.schemes]
    document = build_pdf(onepage_content(plan.model_copy(update={"schemes": many})))
    assert document.pages == pdf_page_count(document.data) == 2
    assert any(t.startswith("Key performance indicators (continued)") for t in document.text)
    assert not any("more KPIs" in t for t in document.text)
    huge = [s.model_copy(update={"id": f"{s.id}x{i}"}) for i in range(8) for s in plan.schemes]
    document = build_pdf(onepage_content(plan.model_copy(update={"schemes": huge})))
    assert document.pages == 2  # never more than two
    assert any(re.match(r"… and \d+ more KPIs", t) for t in document.text)


# --- Writer -------------------------------------------------------------------------------------


def test_render_without_pdf_and_a_bad_out_dir(plan: Plan, tmp_path: Path) -> None:
    result = render_onepage(plan.model_copy(update={"milestones": []}), tmp_path, pdf=False)
    assert result.pdf_path is None and result.chart_path is None
    assert [p.name for p in tmp_path.iterdir()] == ["lsc-resilience-2015-onepage.html"]
    assert "The plan has no milestones." in result.html_path.read_text(encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        render_onepage(plan, blocker)


def test_pdf_counts_priorities_that_do_not_fit(plan: Plan, content: OnePage) -> None:
    many = [
        p.model_copy(update={"id": f"P{i + 1}", "title": f"Priority number {i + 1}"})
        for i in range(24)
        for p in plan.priorities[:1]
    ]
    document = build_pdf(onepage_content(plan.model_copy(update={"priorities": many})))
    assert document.pages == 1
    text = "\n".join(document.text)
    assert "Priority number 1" in text and "Priority number 24" not in text
    assert re.search(r"… and \d+ more priorities and 3 more enablers: see the HTML page\.", text)
    assert "£439,000" in text  # the money block is kept on the page
    # The demo's five priorities and three enablers all fit.
    demo_text = "\n".join(build_pdf(content).text)
    assert "more priorities" not in demo_text and "E3 System governance" in demo_text
