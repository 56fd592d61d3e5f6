"""Fuzz every route of the OpenAPI schema (schemathesis, bounded and seeded): no input may produce
a 5xx, and every response must match its declared schema. Every route is fuzzed as each kind of
caller: with an editor key (the write routes are exercised too), with a cite key limited to one
collection (rate limits and the daily text cap answer 429), and without a key — also against a
service that requires one (refused before the body is read)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import store_copy

EXAMPLES = 30  # per route and caller (seeded): ~18 routes × 4 callers × 30 cases


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus_index, store):
    home = store_copy(store, corpus_index, tmp_path_factory.mktemp("fuzz"))
    keys = KeyStore(home)
    callers = {"editor": keys.create("editor"), "cite": keys.create("cite", ["default"]), "anonymous": None}
    app = create_app(store.settings(max_upload_mb=1, cite_requests_per_minute=60), kb=store.kb(home))
    closed = create_app(store.settings(max_upload_mb=1, require_key=True), kb=store.kb(home))
    with TestClient(app), TestClient(closed):  # runs the lifespans: the index is loaded
        yield {"open": app, "closed": closed}, callers


@pytest.mark.parametrize(
    ("service", "caller"), [("open", "editor"), ("open", "cite"), ("open", "anonymous"), ("closed", "anonymous")]
)
def test_no_input_gives_a_server_error_or_breaks_the_schema(served, service, caller):
    apps, callers = served
    app, key = apps[service], callers[caller]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            headers = dict(case.headers or {})
            headers.pop("Authorization", None)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            case.headers = headers
            response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
            statuses.append(response.status_code)

        fuzz()
    assert len(statuses) >= 5 * len(operations) and any(s >= 400 for s in statuses)
    if service == "open":
        assert any(s < 300 for s in statuses)
    else:
        assert all(s >= 400 for s in statuses) and 401 in statuses  # nothing is served without a key
