"""Plan models: field validation, derived values and the JSON Schema."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from flowplan.plans.model import (
    Kpi,
    Officer,
    Plan,
    PlanStatus,
    PlanType,
    Risk,
    Scheme,
    SchemeCost,
    SchemeSection,
    SignOff,
    financial_year_of,
    plan_json_schema,
)


def _officer(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Alex Example",
        "email": "alex.example@example.org",
        "job_title": "Director",
        "organisation": "QE1",
    }
    data.update(over)
    return data


def _scheme(sid: str, amount: Any, section: str = "minimum") -> dict[str, Any]:
    return {
        "id": sid,
        "title": "t",
        "summary": "s",
        "section": section,
        "category": "non_elective",
        "lead": _officer(),
        "costs": [{"year": "2015/16", "amount_gbp": amount}],
    }


def _plan(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "demo-2015",
        "type": "resilience_capacity",
        "title": "Demo",
        "footprint": "LSC-SRG",
        "period_start": "2015-04-01",
        "period_end": "2016-03-31",
        "requirements_version": "2014-15.1",
    }
    data.update(over)
    return data


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e["loc"]), e["type"]) for e in exc.value.errors()]


def test_minimal_plan_defaults() -> None:
    plan = Plan.model_validate(_plan())
    assert plan.type is PlanType.resilience_capacity
    assert plan.status is PlanStatus.draft
    assert plan.version == 1
    assert plan.period_start == date(2015, 4, 1)
    assert plan.schemes == [] and plan.extensions == {}
    assert plan.financial_years() == ["2015/16"]


def test_extra_keys_are_forbidden_and_named() -> None:
    with pytest.raises(ValidationError) as exc:
        Plan.model_validate(_plan(colour="red"))
    assert _errors(exc) == [(("colour",), "extra_forbidden")]
    with pytest.raises(ValidationError) as exc:
        Officer.model_validate(_officer(phone="0123"))
    assert _errors(exc) == [(("phone",), "extra_forbidden")]


@pytest.mark.parametrize("email", ["nobody", "a@b", "a b@example.org", "@example.org", "a@.org"])
def test_email_shape_is_checked(email: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Officer.model_validate(_officer(email=email))
    assert exc.value.errors()[0]["loc"] == ("email",)
    assert "not an email address" in exc.value.errors()[0]["msg"]


def test_good_email_passes() -> None:
    assert Officer.model_validate(_officer(email="jo.o'neil+srg@nhs.example.org")).email


@pytest.mark.parametrize(("field", "value"), [("likelihood", 0), ("likelihood", 6), ("impact", 9)])
def test_risk_likelihood_and_impact_range(field: str, value: int) -> None:
    data: dict[str, Any] = {"id": "R1", "description": "d", "likelihood": 3, "impact": 3}
    data["owner"] = "o"
    data[field] = value
    with pytest.raises(ValidationError) as exc:
        Risk.model_validate(data)
    assert exc.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    ("likelihood", "impact", "score", "grading", "rag"),
    [
        # Bands of NPSA "A risk matrix for risk managers" (2008): 1-3 low, 4-6 moderate,
        # 8-12 high, 15-25 extreme; RAG green / green / amber / red.
        (1, 1, 1, "low", "green"),
        (1, 3, 3, "low", "green"),
        (2, 2, 4, "moderate", "green"),
        (2, 3, 6, "moderate", "green"),
        (2, 4, 8, "high", "amber"),
        (3, 4, 12, "high", "amber"),
        (3, 5, 15, "extreme", "red"),
        (5, 5, 25, "extreme", "red"),
    ],
)
def test_risk_score_and_rag(
    likelihood: int, impact: int, score: int, grading: str, rag: str
) -> None:
    risk = Risk(id="R1", description="d", likelihood=likelihood, impact=impact, owner="o")
    assert risk.score == score
    assert risk.grading == grading
    assert risk.rag == rag
    assert "score" not in risk.model_dump()  # derived, never stored


def test_money_is_exact_decimal_and_refuses_text() -> None:
    cost = SchemeCost.model_validate({"year": "2015/16", "amount_gbp": 0.1})
    assert cost.amount_gbp == Decimal("0.1")
    total = sum(
        (SchemeCost(year="2015/16", amount_gbp=Decimal(v)).amount_gbp for v in ("0.1", "0.2")),
        Decimal(0),
    )
    assert total == Decimal("0.3")
    for bad in ("£1.2m", "1200000", True):
        with pytest.raises(ValidationError) as exc:
            SchemeCost.model_validate({"year": "2015/16", "amount_gbp": bad})
        assert exc.value.errors()[0]["loc"] == ("amount_gbp",)
        assert "number in pounds" in exc.value.errors()[0]["msg"]
    assert cost.model_dump(mode="json")["amount_gbp"] == 0.1
    whole = SchemeCost(year="2015/16", amount_gbp=Decimal("80000.00"))
    assert whole.model_dump(mode="json")["amount_gbp"] == 80000


@pytest.mark.parametrize("year", ["2015-16", "2015/17", "15/16", "2015/2016"])
def test_financial_year_shape(year: str) -> None:
    with pytest.raises(ValidationError):
        SchemeCost.model_validate({"year": year, "amount_gbp": 1})


def test_financial_year_of() -> None:
    assert financial_year_of(date(2015, 4, 1)) == "2015/16"
    assert financial_year_of(date(2016, 3, 31)) == "2015/16"
    assert financial_year_of(date(1999, 12, 31)) == "1999/00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7 March 20014", "expected YYYY-MM-DD"),
        ("2015-02-30", "impossible date"),
        (20150401, "expected YYYY-MM-DD"),
    ],
)
def test_dates_are_strict(text: Any, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Plan.model_validate(_plan(period_end=text))
    assert exc.value.errors()[0]["loc"] == ("period_end",)
    assert message in exc.value.errors()[0]["msg"]


def test_period_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="period_end must be after period_start"):
        Plan.model_validate(_plan(period_end="2015-04-01"))


def test_kpi_rules() -> None:
    base: dict[str, Any] = {"baseline": 1, "target": 2, "target_date": "2016-03-31"}
    assert Kpi.model_validate({"metric": "constitution.ae_4h", **base}).baseline == 1.0
    with pytest.raises(ValidationError, match="custom"):
        Kpi.model_validate({"metric": "custom", **base})
    with pytest.raises(ValidationError, match="numerator and denominator"):
        Kpi.model_validate({"metric": "constitution.ae_4h", "numerator": 3, **base})
    with pytest.raises(ValidationError) as exc:
        Kpi.model_validate({"metric": "constitution.ae_4h", **base, "baseline": "95"})
    assert exc.value.errors()[0]["loc"] == ("baseline",)


def test_totals_and_gap() -> None:
    plan = Plan.model_validate(
        _plan(
            funding=[
                {
                    "kind": "central_resilience",
                    "description": "c",
                    "amount_gbp": 100.1,
                    "year": "2015/16",
                },
                {"kind": "other_local", "description": "o", "amount_gbp": 50, "year": "2015/16"},
            ],
            schemes=[_scheme("S01", 120.2), _scheme("S02", 40, section="innovation")],
        )
    )
    assert plan.total_funding() == Decimal("150.1")
    assert plan.total_scheme_cost() == Decimal("160.2")
    assert plan.total_scheme_cost(section=SchemeSection.innovation) == Decimal(40)
    assert plan.total_scheme_cost(year="2016/17") == Decimal(0)
    assert plan.funding_gap() == Decimal("10.1")
    assert plan.scheme("S02") is not None and plan.scheme("S03") is None


def test_scheme_activity_effect_needs_target_or_description() -> None:
    data = _scheme("S01", 1)
    data["activity_effects"] = [{"change_pct": -20}]
    with pytest.raises(ValidationError, match="target parameter path or a description"):
        Scheme.model_validate(data)
    data["activity_effects"] = [{"target": "streams.ed_walk_in.volume", "change_pct": -20}]
    assert Scheme.model_validate(data).activity_effects[0].change_pct == -20


def test_json_schema_exports() -> None:
    schema = plan_json_schema()
    assert schema["additionalProperties"] is False
    assert {"id", "type", "schemes", "funding", "extensions"} <= set(schema["properties"])
    funding = schema["$defs"]["FundingLine"]["properties"]["amount_gbp"]
    assert funding["type"] == "number"
    assert schema["$defs"]["Scheme"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # No offset: read as UTC (older plan files, Excel cells).
        ("2015-06-01T09:30:00", datetime(2015, 6, 1, 9, 30, tzinfo=UTC)),
        ("2015-06-01T09:30:00Z", datetime(2015, 6, 1, 9, 30, tzinfo=UTC)),
        # British Summer Time (UTC+1) is converted to the same instant in UTC.
        ("2015-06-01T10:30:00+01:00", datetime(2015, 6, 1, 9, 30, tzinfo=UTC)),
        (datetime(2015, 6, 1, 9, 30), datetime(2015, 6, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_sign_off_times_are_instants_in_utc(written: Any, expected: datetime) -> None:
    signoff = SignOff.model_validate({"org": "RXN", "user": "sig", "at": written})
    assert signoff.at == expected
    assert signoff.at.utcoffset() == timedelta(0)
    # JSON carries the offset, as RFC 3339 date-time (the schema's format) requires.
    assert signoff.model_dump(mode="json")["at"] == "2015-06-01T09:30:00Z"


def test_a_date_time_that_is_not_iso_8601_is_refused_with_the_rule() -> None:
    with pytest.raises(ValidationError, match="not a valid date-time: expected ISO 8601"):
        SignOff.model_validate({"org": "RXN", "user": "sig", "at": "1st June 2015"})
