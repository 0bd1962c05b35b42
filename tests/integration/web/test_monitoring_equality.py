"""The monitoring page cuts KPIs by deprivation decile and ethnic group where the store has cuts.

A small synthetic local extract is loaded as the CLI loads one (``flowplan ingest table FILE
--org CODE --measure NAME --time-col month --value-col value --grain month --breakdown LABEL``:
:func:`flowplan.data.readers.read_local_table` then :meth:`Store.ingest`), one file per measure
and cut, for two members of the demo plan's footprint LSC-SRG (RXN and RXL). Every expected
number below is worked by hand from the extract; the RAG follows
``src/flowplan/monitor/kpis.toml`` 2025-26.1 (green: on plan or better; amber: up to 5 % of the
planned value worse; red: more).

The demo plan's A&E KPI (S02, ``constitution.ae_4h`` = 100 × (1 − breaches ÷ attendances),
higher is better) reaches its target of 95.0 % in March 2016, so for the 2024 months of the
extract the planned value is 95.0 %: green ≥ 95.0, amber ≥ 95.0 − 4.75 = 90.25, red below.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowplan.data.grain import Grain
from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import LocalTable, read_local_table
from flowplan.store.store import Store
from tests.integration.web.conftest import PLAN_ID, Site, build_site

MONTHS = ("2024-01-01", "2024-02-01", "2024-03-01")
#: RXN's A&E attendances and 4-hour breaches per IMD decile (the same in each month):
#: decile d has 1,000 attendances and 200 − 20 × (d − 1) breaches, i.e. 80 % … 98 % in 4 hours.
RXN_DECILES = {d: (1000.0, 200.0 - 20.0 * (d - 1)) for d in range(1, 11)}
#: RXL stores deciles 1 and 10 only: 90 % and 95 % in 4 hours.
RXL_DECILES = {1: (500.0, 50.0), 10: (500.0, 25.0)}
#: RXN's attendances and breaches per ethnic group.
RXN_ETHNICITY = {
    "asian": (2000.0, 160.0),  # 92.0 %: amber
    "black": (1000.0, 120.0),  # 88.0 %: red
    "mixed": (400.0, 20.0),  # 95.0 %: green
    "white": (5000.0, 250.0),  # 95.0 %: green
    "other": (300.0, 30.0),  # 90.0 %: 5.00 short of 95, more than 4.75 → red
    "not_stated": (300.0, 3.0),  # 99.0 %: green
}
#: 52-week waiters (a count metric, S13 constitution.rtt_52w) by decile.
RXN_WAITERS = {1: 30.0, 10: 4.0}
RXL_WAITERS = {1: 20.0, 10: 1.0}


def _extract(
    folder: Path, org: str, measure: str, label: str, value: float, counter: list[int]
) -> ParsedFile:
    """One local extract file (monthly values of one measure and cut) read as the CLI reads it."""
    counter[0] += 1
    path = folder / f"{org}_{measure}_{label}_{counter[0]}.csv"
    rows = "".join(f"{month},{value:g}\n" for month in MONTHS)
    path.write_text("month,value\n" + rows, encoding="utf-8")
    spec = LocalTable(
        org=org,
        measure=measure,
        time_column="month",
        value_column="value",
        grain=Grain.MONTH,
        breakdown=label,
    )
    return read_local_table(spec, path)


def ingest_cuts(url: str, folder: Path) -> None:
    """Write the synthetic extract (A&E by decile and ethnicity, 52-week waiters by decile)."""
    counter = [0]
    parsed: list[ParsedFile] = []
    for org, table in (("RXN", RXN_DECILES), ("RXL", RXL_DECILES)):
        for decile, (attendances, breaches) in table.items():
            label = f"imd_decile_{decile}"
            parsed.append(_extract(folder, org, "ae_attendances", label, attendances, counter))
            parsed.append(_extract(folder, org, "ae_breaches_4h", label, breaches, counter))
    for group, (attendances, breaches) in RXN_ETHNICITY.items():
        label = f"ethnicity_{group}"
        parsed.append(_extract(folder, "RXN", "ae_attendances", label, attendances, counter))
        parsed.append(_extract(folder, "RXN", "ae_breaches_4h", label, breaches, counter))
    for org, waiters in (("RXN", RXN_WAITERS), ("RXL", RXL_WAITERS)):
        for decile, count in waiters.items():
            label = f"imd_decile_{decile}"
            parsed.append(_extract(folder, org, "rtt_waiting_over_52w", label, count, counter))
    # a label that breaks the convention: listed as not used, never read as a decile
    parsed.append(_extract(folder, "RXN", "ae_attendances", "imd_decile_11", 10.0, counter))
    store = Store(url)
    store.ingest(parsed, who="test")
    store.dispose()


@pytest.fixture(scope="module")
def cuts_site(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite: Path) -> Iterator[Site]:
    """The seeded site with the synthetic equality extract loaded."""
    folder = tmp_path_factory.mktemp("equality")
    target = folder / "flowplan.db"
    shutil.copyfile(seeded_sqlite, target)
    url = f"sqlite:///{target}"
    ingest_cuts(url, folder)
    site = build_site(url)
    yield site
    site.store.dispose()


def _section(text: str) -> str:
    start = text.index('<section id="equality-cuts">')
    return text[start : text.index("</section>", start)]


def _article(text: str, scheme: str) -> str:
    start = text.index(f'id="cuts-{scheme}-')
    return text[start : text.index("</article>", start)]


def _table(article: str, dimension: str) -> str:
    start = article.index(f'class="cuts cuts-{dimension}"')
    return article[start : article.index("</table>", start)]


def _cells(table: str, label: str) -> list[str]:
    """The text of the cells of the row of ``label`` (the heading cell first)."""
    start = table.index(f'data-cut="{label}"')
    row = table[start : table.index("</tr>", start)]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


def test_monitoring_shows_ae_by_decile_summed_over_members(cuts_site: Site) -> None:
    text = cuts_site.login("ann").get(f"/monitoring/{PLAN_ID}").text
    article = _article(_section(text), "S02")
    deciles = _table(article, "deprivation")
    # Decile 1: RXN 200 of 1,000 breaches and RXL 50 of 500 → (200 + 50) ÷ (1,000 + 500):
    # 100 × (1 − 250 ÷ 1,500) = 83.33 %, not the mean of 80 % and 90 % (85 %); planned 95.00,
    # variance −11.67, shortfall 11.67 > 4.75 → red.
    cells = _cells(deciles, "imd_decile_1")
    assert cells[0].startswith("Decile 1 (most deprived)")
    assert cells[1:] == ["Mar 2024", "250", "1,500", "83.33", "95.00", "-11.67", "red"]
    # Decile 7 (RXN only): 80 of 1,000 → 92.00 %, 3.00 short of 95 ≤ 4.75 → amber.
    assert _cells(deciles, "imd_decile_7")[1:] == [
        "Mar 2024", "80", "1,000", "92.00", "95.00", "-3.00", "amber",
    ]  # fmt: skip
    # Decile 10: (20 + 25) of (1,000 + 500) → 100 × (1 − 45 ÷ 1,500) = 97.00 % → green.
    assert _cells(deciles, "imd_decile_10")[1:] == [
        "Mar 2024", "45", "1,500", "97.00", "95.00", "+2.00", "green",
    ]  # fmt: skip
    # Deciles in order 1 → 10; the stored imd_decile_11 is not read as a decile.
    order = re.findall(r'data-cut="(imd_decile_\d+)"', deciles)
    assert order == [f"imd_decile_{d}" for d in range(1, 11)]
    # RAG counts: deciles 1–6 at 83.33, 82, 84, 86, 88, 90 % are red (90 is 5.0 short > 4.75);
    # 7 (92) and 8 (94) amber; 9 (96) and 10 (97) green.
    assert '<span class="rag rag-green">2 green</span>' in deciles
    assert '<span class="rag rag-amber">2 amber</span>' in deciles
    assert '<span class="rag rag-red">6 red</span>' in deciles
    # The gap in words: 83.33 − 97.00 = −13.67 points, worse for the most deprived.
    gap = html.unescape(article)
    assert (
        "In Mar 2024 the most deprived decile (1) stood at 83.3 % and the least deprived (10) at "
        "97.0 %: a gap of 13.7 percentage points (decile 1 − decile 10 = -13.7), worse for the "
        "most deprived (higher is better)."
    ) in gap
    assert "summed over 2 member(s) (RXL, RXN) before dividing" in gap
    assert "Not used: RXN ae_attendances [imd_decile_11]" in gap


def test_monitoring_shows_ae_by_ethnic_group(cuts_site: Site) -> None:
    text = cuts_site.login("ann").get(f"/monitoring/{PLAN_ID}").text
    groups = _table(_article(_section(text), "S02"), "ethnicity")
    # asian 160 of 2,000 → 92.00 % amber; black 120 of 1,000 → 88.00 % red;
    # white 250 of 5,000 → 95.00 % green (on plan); not stated 3 of 300 → 99.00 % green.
    assert _cells(groups, "ethnicity_asian")[1:] == [
        "Mar 2024", "160", "2,000", "92.00", "95.00", "-3.00", "amber",
    ]  # fmt: skip
    assert _cells(groups, "ethnicity_black")[-2:] == ["-7.00", "red"]
    assert _cells(groups, "ethnicity_white")[0].startswith("White")
    assert _cells(groups, "ethnicity_white")[-3:] == ["95.00", "+0.00", "green"]
    assert _cells(groups, "ethnicity_other")[-3:] == ["95.00", "-5.00", "red"]
    assert _cells(groups, "ethnicity_not_stated")[-4:] == ["99.00", "95.00", "+4.00", "green"]
    assert _cells(groups, "ethnicity_asian")[0].startswith("Asian, Asian British or Asian Welsh")
    order = re.findall(r'data-cut="ethnicity_(\w+)"', groups)
    assert order == ["asian", "black", "mixed", "white", "other", "not_stated"]


def test_count_metric_cuts_sum_the_members_counts(cuts_site: Site) -> None:
    text = cuts_site.login("ann").get(f"/monitoring/{PLAN_ID}").text
    deciles = _table(_article(_section(text), "S13"), "deprivation")
    # 52-week waiters are a count: decile 1 = 30 + 20 = 50 (not the 25 a mean would give), no
    # denominator shown; decile 10 = 4 + 1 = 5. Planned 0 (the target, held): both red.
    assert _cells(deciles, "imd_decile_1")[1:] == [
        "Mar 2024", "50", "", "50.00", "0.00", "+50.00", "red",
    ]  # fmt: skip
    assert _cells(deciles, "imd_decile_10")[4] == "5.00"
    article = html.unescape(_article(_section(text), "S13"))
    assert (
        "In Mar 2024 the most deprived decile (1) stood at 50.0 and the least deprived (10) at "
        "5.0: a gap of 45.0 (decile 1 − decile 10 = +45.0), worse for the most deprived (lower "
        "is better)."
    ) in article


def test_kpis_without_cuts_say_what_would_enable_them(cuts_site: Site) -> None:
    section = html.unescape(_section(cuts_site.login("ann").get(f"/monitoring/{PLAN_ID}").text))
    # G&A occupancy has no cuts stored: one line naming its series and the labels.
    assert (
        "S01: uec.ga_bed_occupancy: no equality cuts stored for LSC-SRG — load ga_beds_occupied "
        "[all] and ga_beds_available [all] as local extracts, one per cut, with breakdown labels "
        "imd_decile_1 … imd_decile_10 (1 = most deprived)"
    ) in section
    # a qualified label for a metric whose numerator is a breakdown of its measure
    assert "by_1700:imd_decile_1 … by_1700:imd_decile_10" in section
    assert "2 of 23 KPI(s) with actuals cut" in section  # S02 and S13 have cuts
    # the KPIs with cuts have no "what would enable it" line
    assert "S02: constitution.ae_4h: no equality cuts" not in section


def test_page_without_any_cuts_shows_the_explanatory_lines(site: Site) -> None:
    response = site.login("ann").get(f"/monitoring/{PLAN_ID}")
    assert response.status_code == 200
    section = html.unescape(_section(response.text))
    assert "0 of 23 KPI(s) with actuals cut" in section
    assert 'class="cuts ' not in section  # no table, no stub values
    assert (
        "S02: constitution.ae_4h: no equality cuts stored for LSC-SRG — load ae_breaches_4h [all] "
        "and ae_attendances [all] as local extracts, one per cut, with breakdown labels "
        "imd_decile_1 … imd_decile_10 (1 = most deprived) and/or ethnicity_asian"
    ) in section
    # one line per KPI (23 in the demo plan), custom or measure-less metrics saying so
    assert section.count("<li>") == 23
    assert (
        "uec.weekend_discharges: the registry names no stored measure for its numerator" in section
    )


def test_cuts_respect_as_at(cuts_site: Site) -> None:
    client = cuts_site.login("ann")
    february = client.get(f"/monitoring/{PLAN_ID}?as_at=2024-02-15").text
    deciles = _table(_article(_section(february), "S02"), "deprivation")
    # the same monthly values, read up to February: decile 1 is still 83.33 %, dated Feb 2024
    assert _cells(deciles, "imd_decile_1")[1:5] == ["Feb 2024", "250", "1,500", "83.33"]
    assert "In Feb 2024 the most deprived decile (1)" in html.unescape(deciles + february)
    before = html.unescape(_section(client.get(f"/monitoring/{PLAN_ID}?as_at=2023-12-31").text))
    assert 'class="cuts ' not in before
    assert (
        "S02: constitution.ae_4h: cuts are stored for LSC-SRG, but none has actuals up to "
        "2023-12-31"
    ) in before
