"""The API's OpenAPI schema is valid and the API keeps to it: property-based tests (schemathesis)
over every operation with an administrator's token, on a fresh copy of the seeded SQLite store
(the demo plan, footprints, users).

Every generated request must get an answer that is not a 5xx and that the schema declares:
a documented status code, content type and headers, and a body matching the response schema.
Requests are generated from the schema both valid (positive) and invalid (negative: the API
must refuse them with a 4xx, never a 5xx). Half of the requests to plan operations name the
demo plan, so they reach the plan logic and not only its 404. Generation is bounded (a few
examples per operation, a deadline per example) so the file runs in well under a minute.

The operations are collected from the API router; ``schemathesis.pytest.from_fixture`` is not
used because its lazy loader fails on pytest 9 (it reads ``Function._nodeid``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import APIRouter
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.routing import BaseRoute

from flowplan.plans import workflow
from flowplan.web.routers import api
from tests.integration.web.conftest import PLAN_ID, Site

SCHEMA_PATH = "/api/openapi.json"
SIGNED_AT = datetime(2015, 6, 1, 9, 30)
MAX_EXAMPLES = 20
DEADLINE_MS = 2000
#: Parts of the demo plan named where an operation's path has their parameter.
DEMO_PARTS = {"scheme_id": "S01", "milestone_id": "M01", "risk_id": "R01"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def api_routes(routes: Sequence[BaseRoute]) -> list[tuple[str, str]]:
    """(method, path) of every ``/api/`` route among ``routes``, sorted. Included routers are
    walked too: FastAPI 0.16x keeps them as one entry each, holding the router they include
    (no prefix is added when the app includes them)."""
    found: list[tuple[str, str]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            found.extend(api_routes(included.routes))
        elif isinstance(route, APIRoute) and route.path.startswith("/api/"):
            found.extend((method, route.path) for method in route.methods)
    return sorted(found)


OPERATIONS = api_routes(api.router.routes)


def load_schema(site: Site) -> OpenApiSchema:
    """The app's schema as schemathesis loads it (raises if it is not valid OpenAPI)."""
    return schemathesis.openapi.from_asgi(SCHEMA_PATH, site.app)


def at_revision(revision: Callable[[], int]) -> Callable[[Case], Case]:
    """Set a generated body's (or query's) ``revision`` to the plan's current one (so the
    change is not refused as stale before the plan's rules are reached)."""

    def update(case: Case) -> Case:
        if isinstance(case.body, dict) and "revision" in case.body:
            case.body = {**case.body, "revision": revision()}
        if isinstance(case.query, dict) and "revision" in case.query:
            case.query = {**case.query, "revision": revision()}
        return case

    return update


def cases(
    schema: OpenApiSchema,
    method: str,
    path: str,
    headers: dict[str, str],
    revision: Callable[[], int],
) -> st.SearchStrategy[Case]:
    """Valid and invalid requests to one operation, all with ``headers``. Plan operations get a
    generated plan id, the demo plan's, or the demo plan's with its current revision in the
    body (and its scheme S01, milestone M01 or risk R01 where one is named)."""
    operation = schema[path][method]
    options = [
        operation.as_strategy(mode, headers=headers)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    if "{plan_id}" in path:
        demo = {"plan_id": PLAN_ID}
        options += [
            operation.as_strategy(mode, headers=headers, path_parameters=demo)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        demo = {**demo, **{k: v for k, v in DEMO_PARTS.items() if f"{{{k}}}" in path}}
        current = operation.as_strategy(headers=headers, path_parameters=demo)
        options.append(current.map(at_revision(revision)))
    return st.one_of(options)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_schema(site: Site, method: str, path: str) -> None:
    schema = load_schema(site)
    strategy = cases(
        schema, method, path, site.token("admin"), lambda: site.plans.revision(PLAN_ID)
    )
    statuses: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=DEADLINE_MS,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        response = case.call_and_validate(checks=CHECKS)
        statuses.append(response.status_code)

    run()
    assert statuses, "no request was made"
    assert any(code != 404 for code in statuses), "no request reached a plan"


def test_schema_is_valid_openapi_3_and_lists_every_api_route(site: Site) -> None:
    loaded = load_schema(site)
    assert loaded.raw_schema["openapi"].startswith("3.")
    operations = []
    for result in loaded.get_all_operations():
        operation = result.ok()  # an InvalidSchema error here fails the test
        operations.append((operation.method.upper(), operation.path))
    routes = api_routes(site.app.routes)
    assert len(routes) == 21
    assert sorted(operations) == routes == OPERATIONS


def test_a_signed_off_plan_conforms_to_the_schema(site: Site) -> None:
    submitted = workflow.submit(site.plans.get(PLAN_ID), [])
    site.plans.save(submitted.plan, action=submitted.action, detail=submitted.detail, who="ann")
    signed = workflow.sign_off(site.plans.get(PLAN_ID), org="RXN", user="sig-rxn", at=SIGNED_AT)
    site.plans.save(signed.plan, action=signed.action, detail=signed.detail, who="sig-rxn")
    operation = load_schema(site)["/api/plans/{plan_id}"]["GET"]
    case = operation.Case(path_parameters={"plan_id": PLAN_ID}, headers=site.token("sig-rxn"))
    response = case.call()
    assert response.status_code == 200
    assert response.json()["plan"]["signoffs"][0]["at"] == "2015-06-01T09:30:00Z"
    case.validate_response(response, checks=CHECKS)
