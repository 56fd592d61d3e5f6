"""Fuzz every route of the OpenAPI schema (schemathesis, bounded and seeded): no input may produce
a 5xx, and every response must match its declared schema. Runs with an editor key so the write
routes are exercised too."""

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


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus_index, store):
    home = store_copy(store, corpus_index, tmp_path_factory.mktemp("fuzz"))
    key = KeyStore(home).create("editor")
    app = create_app(store.settings(max_upload_mb=1), kb=store.kb(home))
    with TestClient(app):  # runs the lifespan: the index is loaded
        yield app, key


def test_no_input_gives_a_server_error_or_breaks_the_schema(served):
    app, key = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
            response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
            statuses.append(response.status_code)

        fuzz()
    assert len(statuses) >= 10 * len(operations) and any(s < 300 for s in statuses) and any(s >= 400 for s in statuses)
