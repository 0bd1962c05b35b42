"""Data pages: loads, the series browser and the upload form (validation, CSRF, roles, audit)."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from flowplan.data.readers import read
from flowplan.store.store import Store
from flowplan.web.routers import data
from tests.integration.web.conftest import Site, build_site, csrf_of

PUBLIC = Path(__file__).resolve().parents[3] / "data" / "public" / "nhs_england_operational"
TRUST_AE = PUBLIC / "england_trust_accidents_emergency.csv"
GA_BEDS = PUBLIC / "england_critical_general_acute_beds.csv"
_PLOT = re.compile(r'data-plot="([^"]*)"')


def rows_of(path: Path, org: str, column: str = "nhs_trust22_code") -> pd.DataFrame:
    """One organisation's rows of a bundled file, as text."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame[frame[column] == org].reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV file content."""
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite: Path) -> Path:
    """The seeded store with RXN's A&E rows, built once."""
    folder = tmp_path_factory.mktemp("data-pages")
    target = folder / "flowplan.db"
    shutil.copyfile(seeded_sqlite, target)
    path = folder / "rxn_trust_ae.csv"
    rows_of(TRUST_AE, "RXN").to_csv(path, index=False)
    store = Store(f"sqlite:///{target}")
    store.ingest([read("trust_ae", path)], who="seed-loader")
    store.dispose()
    return target


@pytest.fixture()
def data_site(tmp_path: Path, loaded_db: Path) -> Iterator[Site]:
    """A fresh copy of the loaded store, with the data router."""
    target = tmp_path / "flowplan.db"
    shutil.copyfile(loaded_db, target)
    site = build_site(f"sqlite:///{target}")
    site.app.include_router(data.router)
    yield site
    site.store.dispose()


def post_upload(
    client: TestClient,
    content: bytes,
    *,
    fmt: str = "trust_ae",
    name: str = "upload.csv",
    csrf: bool = True,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    """POST the upload form (with the page's CSRF token unless ``csrf`` is False)."""
    fields = {"format": fmt, **(extra or {})}
    if csrf:
        fields["csrf_token"] = csrf_of(client, "/data/upload")
    response: httpx.Response = client.post(
        "/data/upload",
        data=fields,
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )
    return response


def test_loads_page_lists_loads(data_site: Site) -> None:
    response = data_site.login("olly").get("/data")
    assert response.status_code == 200
    text = response.text
    assert "rxn_trust_ae.csv" in text
    assert "<td>trust_ae</td>" in text
    assert "<td>seed-loader</td>" in text
    assert '<td class="num">52</td>' in text  # rows read: RXN's 52 months
    assert 'href="/data/upload"' not in text  # a viewer is not offered the upload


def test_loads_page_offers_upload_to_analysts(data_site: Site) -> None:
    text = data_site.login("ann").get("/data").text
    assert 'href="/data/upload"' in text


def test_data_pages_need_sign_in(data_site: Site) -> None:
    client = data_site.client()
    for path in ("/data", "/data/series", "/data/upload"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/data")


def test_series_browser_lists_and_charts(data_site: Site) -> None:
    client = data_site.login("ann")
    listing = client.get("/data/series?org=RXN")
    assert listing.status_code == 200
    assert "ae_attendances" in listing.text and "ae_breaches_4h" in listing.text
    assert "data-plot" not in listing.text
    response = client.get("/data/series?org=RXN&measure=ae_attendances")
    assert response.status_code == 200
    text = response.text
    assert "RXN ae_attendances [all] by month" in text
    assert "2025-07-01" in text
    july = rows_of(TRUST_AE, "RXN").query("date == 'July 2025'").iloc[0]
    assert f"{int(july['total_attendances']):,}" in text
    figures = [json.loads(html.unescape(raw)) for raw in _PLOT.findall(text)]
    assert len(figures) == 1
    line = figures[0]["data"][0]
    assert len(line["x"]) == 52 and line["x"][-1] == "2025-07-01"


def test_series_browser_missing_series(data_site: Site) -> None:
    response = data_site.login("ann").get("/data/series?org=RXL&measure=ae_attendances")
    assert response.status_code == 200
    assert "no stored series for RXL: ae_attendances" in response.text


def test_upload_bad_file_shows_row_and_writes_nothing(data_site: Site) -> None:
    before = data_site.store.counts()
    frame = rows_of(TRUST_AE, "RXN").head(3)
    frame.loc[1, "attendances_over_4hours"] = "999999.0"  # more breaches than attendances
    client = data_site.login("ann")
    response = post_upload(client, csv_bytes(frame), name="bad_ae.csv")
    assert response.status_code == 422
    text = response.text
    assert "bad_ae.csv: 1 problem(s); nothing was written" in text
    assert '<td>bad_ae.csv</td><td class="num">3</td><td>attendances_over_4hours</td>' in text
    assert "999999" in text
    assert "bad_ae.csv:3:attendances_over_4hours:" in text  # the CLI's line
    assert data_site.store.counts() == before
    refused = data_site.users.audit_entries(action="data.upload.refused")
    assert refused and refused[0].who == "ann" and refused[0].target == "bad_ae.csv"
    assert refused[0].detail["problems"] == 1


def test_upload_good_file_writes_a_load(data_site: Site) -> None:
    before = len(data_site.store.loads())
    frame = rows_of(GA_BEDS, "RXN")
    client = data_site.login("ann")
    response = post_upload(client, csv_bytes(frame), fmt="ga_beds", name="rxn_beds.csv")
    assert response.status_code == 200
    text = response.text
    assert "Loaded." in text
    assert "<td>rxn_beds.csv</td><td>ga_beds</td>" in text
    loads = data_site.store.loads()
    assert len(loads) == before + 1
    newest = loads[0]
    assert newest["file_name"] == "rxn_beds.csv"
    assert newest["who"] == "ann"
    assert newest["rows_read"] == len(frame)
    assert f"<td>{newest['id']}</td>" in text
    assert data_site.store.series_list("RXN", "ga_beds_occupied")
    done = data_site.users.audit_entries(action="data.upload")
    assert done and done[0].who == "ann" and done[0].detail["load_id"] == newest["id"]
    assert "rxn_beds.csv" in data_site.login("olly").get("/data").text


def test_upload_dry_run_writes_nothing(data_site: Site) -> None:
    before = data_site.store.counts()
    client = data_site.login("ann")
    response = post_upload(
        client,
        csv_bytes(rows_of(GA_BEDS, "RXN")),
        fmt="ga_beds",
        extra={"dry_run": "true"},
    )
    assert response.status_code == 200
    assert "Dry run: the file is valid; nothing was written." in response.text
    assert data_site.store.counts() == before


def test_upload_conflict_is_refused(data_site: Site) -> None:
    before = data_site.store.counts()
    frame = rows_of(TRUST_AE, "RXN").head(2)
    frame.loc[0, "total_attendances"] = "14757"  # stored: 14756
    response = post_upload(data_site.login("ann"), csv_bytes(frame), name="changed.csv")
    assert response.status_code == 422
    assert "contradict stored values; nothing was written" in response.text
    assert data_site.store.counts() == before


def test_upload_local_table(data_site: Site) -> None:
    content = b"when,patients\n2025-01-01T08:00,3\n2025-01-01T09:30,4\n2025-01-02T10:00,5\n"
    response = post_upload(
        data_site.login("ann"),
        content,
        fmt="table",
        name="local.csv",
        extra={
            "org": "RXN",
            "measure": "sdec_attendances",
            "time_col": "when",
            "value_col": "patients",
            "grain": "day",
            "agg": "sum",
        },
    )
    assert response.status_code == 200, response.text
    frame, _, _ = data_site.store.read_series("RXN", "sdec_attendances")
    assert frame["value"].tolist() == [7.0, 5.0]


def test_viewer_cannot_upload(data_site: Site) -> None:
    client = data_site.login("olly")
    assert client.get("/data/upload").status_code == 403
    token = csrf_of(client, "/data")
    before = data_site.store.counts()
    response = client.post(
        "/data/upload",
        data={"format": "ga_beds", "csrf_token": token},
        files={"file": ("x.csv", csv_bytes(rows_of(GA_BEDS, "RXN")), "text/csv")},
    )
    assert response.status_code == 403
    assert "analyst" in response.text
    assert data_site.store.counts() == before


def test_upload_without_csrf_is_refused(data_site: Site) -> None:
    before = data_site.store.counts()
    client = data_site.login("ann")
    client.get("/data/upload")
    response = post_upload(client, csv_bytes(rows_of(GA_BEDS, "RXN")), fmt="ga_beds", csrf=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert data_site.store.counts() == before


def test_upload_anonymous_redirects_to_login(data_site: Site) -> None:
    client = data_site.client()
    token = csrf_of(client)
    response = client.post(
        "/data/upload",
        data={"format": "ga_beds", "csrf_token": token},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/data/upload"


def test_upload_form_lists_formats(data_site: Site) -> None:
    response = data_site.login("ann").get("/data/upload")
    assert response.status_code == 200
    text = response.text
    assert 'enctype="multipart/form-data"' in text
    assert 'name="csrf_token"' in text
    for name in ("trust_ae", "ga_beds", "criteria_to_reside", "rtt_flow_stp", "table"):
        assert f'<option value="{name}"' in text
