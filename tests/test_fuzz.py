"""The whole API fuzzed (Schemathesis over /openapi.json): for each role, every operation gets generated
requests, valid and invalid; none may be answered with a server error (>= 500)."""

from __future__ import annotations

import pytest

from actors import PASSWORD, make_app, staff
from openfr.governance.accounts import TokenKind
from openfr.governance.permissions import Role
from openfr.web.app import create_app

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency (pip extra 'dev')")
EXAMPLES = 6  # per operation and role: about 800 requests in all, bounded so the suite stays quick


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("fuzz"))
    staff(app)
    yield app, schemathesis.openapi.from_asgi("/openapi.json", create_app(app))
    app.close()


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.OPERATOR, Role.INVESTIGATOR, Role.AUDITOR])
def test_no_operation_answers_any_role_with_a_server_error(api, role):
    from hypothesis import HealthCheck, given, settings

    app, schema = api
    token = app.accounts.sign_in(role.value, PASSWORD, None, TokenKind.API).token
    errors: list[tuple] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # the whole API, not a corner of it
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            answer = case.call(headers={"Authorization": f"Bearer {token}"})
            if answer.status_code >= 500:
                errors.append((case.method, case.path, answer.status_code, answer.text[:200]))

        call()
    assert errors == []
