"""``flowplan plan ...`` end to end: new, import, check, sign-off route, audit, export, one-page.

The worked example plan (data/demo/plans) is consistent: its funding is £6,600,000 against
scheme costs of £7,039,000, a funding gap of £439,000 (sums of its own rows).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import run, run_json

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
SIGNATORIES = ["QE1", "RXN", "RXL", "RXR", "RTX", "RX7", "E10000017"]

pytestmark = pytest.mark.usefixtures("home")


def test_check_of_the_worked_example_passes_with_the_gap() -> None:
    code, out, err = run("plan", "check", str(DEMO))
    assert code == 0, err
    assert "0 error(s)" in out
    assert "£439,000" in out
    got = run_json("plan", "check", str(DEMO))
    assert got["passed"] is True


def test_check_fails_with_exit_1_when_a_rule_breaks(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["stated_totals"]["funding_gap_gbp"] = 400_000  # computed gap is 439,000
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, _ = run("plan", "check", str(broken))
    assert code == 1
    assert "£400,000" in out and "£439,000" in out


def test_bad_plan_file_is_one_line_naming_the_field(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("metric: constitution.", "metric: nosuch.", 1), encoding="utf-8")
    code, out, err = run("plan", "check", str(bad))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("bad.yaml:0:schemes[") and "nosuch." in line
    assert out == ""


def test_route_from_import_to_published_with_audit(tmp_path: Path) -> None:
    code, out, err = run("plan", "import", str(DEMO), "--user", "analyst")
    assert code == 0, err
    plan_id = "lsc-resilience-2015"
    # publishing a draft is refused with the route
    code, _, err = run("plan", "publish", plan_id)
    assert code == 2 and "its status is draft, it must be signed_off" in err
    assert run("plan", "submit", plan_id, "--user", "lead")[0] == 0
    status = run_json("plan", "status", plan_id)
    assert (status["status"], status["outstanding"]) == ("submitted", SIGNATORIES)
    code, _, err = run("plan", "signoff", plan_id, "--org", "RA4", "--user", "x")
    assert code == 2 and "RA4 cannot sign off" in err
    for org in SIGNATORIES:
        code, out, err = run("plan", "signoff", plan_id, "--org", org, "--user", f"CEO {org}")
        assert code == 0, err
    assert "every member has signed" in out
    assert run("plan", "publish", plan_id, "--user", "lead")[0] == 0
    status = run_json("plan", "status", plan_id)
    assert status["status"] == "published" and status["outstanding"] == []
    assert all(s["signed"] for s in status["signoffs"])
    audit = run_json("plan", "audit", plan_id)["entries"]
    actions = [e["action"] for e in audit]
    assert actions == ["created", "submitted", *["signed_off"] * 7, "published"]
    assert [e["who"] for e in audit][:2] == ["analyst", "lead"]
    listed = run_json("plan", "list")["plans"]
    assert [(p["id"], p["status"], p["revision"]) for p in listed] == [(plan_id, "published", 10)]


def test_import_replace_edits_a_draft_and_refuses_a_published_one(tmp_path: Path) -> None:
    assert run("plan", "import", str(DEMO))[0] == 0
    code, _, err = run("plan", "import", str(DEMO))
    assert code == 2 and "already exists; use --replace" in err
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        DEMO.read_text(encoding="utf-8").replace("title: ", "title: Revised ", 1),
        encoding="utf-8",
    )
    code, out, err = run("plan", "import", str(edited), "--replace")
    assert code == 0, err
    assert "revision 2 (1 change(s))" in out


def test_export_round_trips_through_excel_and_json(tmp_path: Path) -> None:
    xlsx, back, js = tmp_path / "plan.xlsx", tmp_path / "back.yaml", tmp_path / "plan.json"
    assert run("plan", "export", str(DEMO), "--out", str(xlsx))[0] == 0
    assert run("plan", "export", str(xlsx), "--out", str(back))[0] == 0
    assert run("plan", "export", str(back), "--out", str(js))[0] == 0
    assert run_json("plan", "show", str(js)) == run_json("plan", "show", str(DEMO))
    shown = run_json("plan", "show", str(xlsx))
    assert (shown["funding_gbp"], shown["scheme_cost_gbp"], shown["funding_gap_gbp"]) == (
        6_600_000,
        7_039_000,
        439_000,
    )


def test_onepage_writes_html_and_pdf(tmp_path: Path) -> None:
    code, _, err = run("plan", "onepage", str(DEMO), "--out", str(tmp_path / "page"))
    assert code == 0, err
    html = next((tmp_path / "page").glob("*.html"))
    pdf = next((tmp_path / "page").glob("*.pdf"))
    assert "£439,000" in html.read_text(encoding="utf-8")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_check_table_budget_exit_status(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("line,proposed\nBeds,£1.2M\nP1,£507K\nTotal,£1.707M\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("line,proposed\nBeds,£1.2M\nP1,£507K\nTotal,£1.800M\n", encoding="utf-8")
    code, out, _ = run("plan", "check-table", str(good), "--kind", "budget")
    assert (code, out.strip()) == (0, "good.csv: 0 row(s) flagged.")
    code, out, _ = run("plan", "check-table", str(bad), "--kind", "budget")
    assert code == 1
    assert out.splitlines()[0] == (
        "4: total of 'proposed' does not equal the sum of its rows (tolerance £500) "
        "— stated £1,800,000, expected £1,707,000"
    )
    text = tmp_path / "text.csv"
    text.write_text("line,proposed\nBeds,tbc\n", encoding="utf-8")
    code, _, err = run("plan", "check-table", str(text), "--kind", "budget")
    assert (code, err.strip()) == (2, "text.csv:2:proposed: not an amount of money — tbc")


def test_new_plan_from_a_stored_footprint(tmp_path: Path) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "code,name,type\nRXN,Lancashire Teaching Hospitals,trust\nQE1,LSC ICB,icb\n",
        encoding="utf-8",
    )
    assert run("orgs", "load", str(orgs))[0] == 0
    assert (
        run("orgs", "footprint", "create", "LSC", "--type", "srg", "--members", "RXN,QE1")[0] == 0
    )
    got = run_json(
        "plan", "new", "resilience_capacity", "--footprint", "LSC", "--start", "2026-04-01"
    )
    assert got == {"id": "lsc-resilience-capacity-2026", "status": "draft", "members": 2}
    shown = run_json("plan", "show", "lsc-resilience-capacity-2026")
    assert shown["period"] == ["2026-04-01", "2027-03-31"]
    code, _, err = run("plan", "new", "bcf", "--footprint", "NOPE")
    assert code == 2 and "no footprint 'NOPE'" in err
