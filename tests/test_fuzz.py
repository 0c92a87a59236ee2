"""The whole API fuzzed (Schemathesis over /openapi.json): for every role, every operation gets generated
requests, valid and invalid; none may be answered with a server error (>= 500). Each role fuzzes its own
fresh installation, so that what one role's requests change (an account disabled, a gallery deleted) cannot
hide another role's operations behind a refusal."""

from __future__ import annotations

import pytest

from actors import PASSWORD, make_app, staff, username
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.web.app import create_app

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency (pip extra 'dev')")
EXAMPLES = 10  # per operation and role (46 x 6 roles): at most ~2,800 requests, bounded so the suite stays quick


@pytest.mark.parametrize("role", list(Role))
def test_no_operation_answers_any_role_with_a_server_error(tmp_path, role):
    from hypothesis import HealthCheck, given, settings

    app = make_app(tmp_path / "home")
    staff(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(app))
    token = app.accounts.sign_in(username(role), PASSWORD, None, TokenKind.API).token
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
    app.close()
    assert errors == []
