"""Dashboard, escalation and monitoring pages on a store with RXN's and QE1's public series.

The store is the foundation's seeded one (footprints, the demo plan, one user per role) with
RXN's rows of the bundled trust files and QE1's (the STP of Lancashire and South Cumbria) RTT
rows ingested once per module.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flowplan.data.readers import read
from flowplan.store.store import Store
from flowplan.web.routers import dashboard
from tests.integration.web.conftest import PLAN_ID, Site, build_site

PUBLIC = Path(__file__).resolve().parents[3] / "data" / "public" / "nhs_england_operational"
#: (format, file, organisation column, organisation)
FILES = (
    ("trust_ae", "england_trust_accidents_emergency.csv", "nhs_trust22_code", "RXN"),
    ("ga_beds", "england_critical_general_acute_beds.csv", "nhs_trust22_code", "RXN"),
    ("criteria_to_reside", "england_trust_criteria_to_reside.csv", "nhs_trust22_code", "RXN"),
    ("discharges", "england_trust_discharged_patients.csv", "nhs_trust22_code", "RXN"),
    ("rtt_flow_stp", "england_rtt_flow_stp.csv", "stp20_nhs_code", "QE1"),
    ("rtt_waits_stp", "england_rtt_stp.csv", "stp20_nhs_code", "QE1"),
)
_PLOT = re.compile(r'data-plot="([^"]*)"')


def ingest_public(url: str, folder: Path) -> None:
    """Write the chosen organisations' rows of the bundled files to the store at ``url``."""
    store = Store(url)
    parsed = []
    for fmt, name, column, org in FILES:
        frame = pd.read_csv(PUBLIC / name, dtype=str, keep_default_na=False)
        path = folder / name
        frame[frame[column] == org].to_csv(path, index=False)
        parsed.append(read(fmt, path))
    store.ingest(parsed, who="test")
    store.dispose()


@pytest.fixture(scope="module")
def data_site(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite: Path) -> Iterator[Site]:
    """The seeded site with RXN/QE1 series and the dashboard router."""
    folder = tmp_path_factory.mktemp("dashboard")
    target = folder / "flowplan.db"
    shutil.copyfile(seeded_sqlite, target)
    url = f"sqlite:///{target}"
    ingest_public(url, folder)
    site = build_site(url)
    site.app.include_router(dashboard.router)
    yield site
    site.store.dispose()


def plots(text: str) -> list[Any]:
    """The figures of a page's ``data-plot`` attributes."""
    return [json.loads(html.unescape(raw)) for raw in _PLOT.findall(text)]


def panel(text: str, key: str) -> str:
    """The HTML of one dashboard panel."""
    start = text.index(f'id="panel-{key}"')
    end = text.find("<section", start)
    return text[start : end if end != -1 else len(text)]


def test_dashboard_shows_four_spc_panels_for_rxn(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get("/dashboard?org=RXN")
    assert response.status_code == 200
    text = response.text
    assert '<script src="/static/vendor/plotly-basic.min.js" defer></script>' in text
    ae = panel(text, "ae")
    assert "A&amp;E: seen within 4 hours" in ae
    assert "Jul 2025" in ae  # latest month of the bundled trust A&E file
    assert re.search(r'class="latest-value">\d+\.\d %<', ae)
    assert "Variation (2025-07-01):" in ae
    assert "Assurance (target 95 against process limits" in ae
    occupancy = panel(text, "occupancy")
    assert "Aug 2025" in occupancy and "Variation (2025-08-01):" in occupancy
    assert "Assurance (target 92" in occupancy
    ctr = panel(text, "ctr")
    assert "criteria to reside" in ctr and "Variation (2025-08-01):" in ctr
    assert "Assurance: none: no target was given." in ctr
    rtt = panel(text, "rtt")
    assert "(QE1)" in rtt and "Feb 2025" in rtt
    assert "RTT is published by STP: QE1" in rtt
    assert "rtt_waiting_over_18w [Total]" in rtt
    assert "Assurance (target 92" in rtt
    assert "no stored series" not in text
    figures = plots(text)
    assert len(figures) == 4
    names = [str(t["name"]) for t in figures[0]["data"]]
    assert {"Mean", "Upper process limit", "Lower process limit", "Target 95"} <= set(names)


def test_dashboard_values_match_the_engine(data_site: Site) -> None:
    """The latest A&E value is 100 × (1 − breaches ÷ attendances) of RXN's latest month."""
    frame = pd.read_csv(PUBLIC / "england_trust_accidents_emergency.csv")
    rxn = frame[frame["nhs_trust22_code"] == "RXN"]
    last = rxn[rxn["date"] == "July 2025"].iloc[0]
    expected = 100 * (1 - last["attendances_over_4hours"] / last["total_attendances"])
    client = data_site.login("ann")
    ae = panel(client.get("/dashboard?org=RXN").text, "ae")
    assert f'class="latest-value">{expected:.1f} %<' in ae
    assert f"{int(last['total_attendances']):,}" in ae  # the table under the chart


def test_dashboard_default_org_is_rxn(data_site: Site) -> None:
    client = data_site.login("olly")
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "<h1>Dashboard: RXN" in response.text


def test_dashboard_missing_series_degrades_with_message(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get("/dashboard?org=RXL")
    assert response.status_code == 200
    ae = panel(response.text, "ae")
    assert "no stored series for RXL: ae_breaches_4h and ae_attendances" in ae
    assert "trust_ae" in ae and "Data → Upload" in ae
    assert "data-plot" not in ae
    # RTT comes from the footprint's STP, which does store it
    rtt = panel(response.text, "rtt")
    assert "QE1" in rtt and "data-plot" in rtt


def test_dashboard_unknown_org_is_404(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get("/dashboard?org=ZZZ99")
    assert response.status_code == 404
    assert "no organisation &#39;ZZZ99&#39;" in response.text


def test_dashboard_needs_sign_in(data_site: Site) -> None:
    response = data_site.client().get("/dashboard?org=RXN", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard%3Forg%3DRXN"


def test_escalation_shows_level_reasons_and_history(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get("/escalation?org=RXN")
    assert response.status_code == 200
    text = response.text
    assert "Latest day with data: 31 Aug 2025" in text
    assert re.search(r'class="level level-[1-4]">OPEL [1-4]<', text)
    assert "G&amp;A bed occupancy 92.11 %" in text
    assert "criteria to reside" in text
    assert "Days at each level" in text
    for level in ("OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4"):
        assert f"<td>{level}</td>" in text
    figures = plots(text)
    assert len(figures) == 1
    trace = figures[0]["data"][0]
    assert trace["line"]["shape"] == "hv"
    assert len(trace["x"]) == 90


def test_escalation_without_data_says_so(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get("/escalation?org=RXL")
    assert response.status_code == 200
    assert "RXL" in response.text
    text = response.text
    assert "no stored series for &#39;RXL&#39;" in text
    assert "ga_beds" in text and "Data → Upload" in text
    assert "data-plot" not in text


def test_monitoring_shows_kpis_with_rag(data_site: Site) -> None:
    client = data_site.login("ann")
    response = client.get(f"/monitoring/{PLAN_ID}")
    assert response.status_code == 200
    text = response.text
    assert "Actual vs plan for every KPI" in text
    assert '<span class="rag rag-red">red</span>' in text
    assert '<span class="rag rag-amber">amber</span>' in text
    assert "uec.ga_bed_occupancy" in text and "constitution.ae_4h" in text
    assert "consistently fails" in text
    assert "Scheme benefits" in text and "S01" in text
    assert "never the mean of the members' rates" in text
    assert "LSC-SRG: sum of 1 member(s) (RXN)" in text


def test_monitoring_draft_hidden_from_non_members(data_site: Site) -> None:
    response = data_site.login("olly").get(f"/monitoring/{PLAN_ID}")
    assert response.status_code == 404
    anonymous = data_site.client().get(f"/monitoring/{PLAN_ID}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert data_site.login("ann").get("/monitoring/no-such-plan").status_code == 404


def test_chart_script_and_vendor_are_served(data_site: Site) -> None:
    client = data_site.client()
    script = client.get("/static/flowplan-charts.js")
    assert script.status_code == 200
    assert "Plotly.newPlot" in script.text
    vendor = client.get("/static/vendor/plotly-basic.min.js")
    assert vendor.status_code == 200 and len(vendor.content) > 500_000
    licence = client.get("/static/vendor/plotly.LICENSE")
    assert "MIT License" in licence.text
