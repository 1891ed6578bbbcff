"""Schemathesis against the OpenAPI schema, through the WSGI app with a valid key: no
response is a 5xx, and every response conforms to the schema (status codes, content types,
bodies). Examples are capped so the whole run stays well under a minute."""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alignment.tenancy import tenant_context
from alignment.wsgi import application
from feedback import services as feedback_services
from tests.factories import AccountFactory
from tests.integrations.test_api_support import make_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Requests go through the real WSGI handler, whose end-of-request hook would close the
    # database connection holding the test's transaction (Django's test client does the
    # same unhooking).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_token(org_a, admin_a, csm_a) -> str:
    account = AccountFactory(organization=org_a, csm=csm_a, arr=Decimal("120000"))
    with tenant_context(org_a):
        feedback = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=account, verbatim="Need SSO for contractors"
        )
        theme = feedback_services.theme_create(
            org=org_a, actor=admin_a, data=feedback_services.NewTheme(title="SSO")
        )
        feedback_services.feedback_attach(org=org_a, actor=admin_a, feedback=feedback, theme=theme)
    return make_key(org_a, admin_a, rate_limit_per_minute=10_000).token


# Serving the schema touches no database, so it can be loaded when the module is collected.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_conforms_to_its_schema(case, api_token):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS)
