"""Schemathesis against the OpenAPI schema, authenticated as an admin: no input makes a 5xx.

Valid and invalid inputs are generated for every operation, a bounded number each so
the run stays well under a minute per database. DELETE operations run last, so a
fuzzed revocation of the admin's own token cannot hide the other operations behind
401s.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi

from agent.runtime import Runtime
from server.app import create_app
from tests.server.conftest import BASE_URL, build_practice

EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}


@pytest.mark.long
def test_no_operation_answers_with_a_server_error(runtime: Runtime) -> None:
    practice = build_practice(runtime)
    app = create_app(runtime, enable_docs=True)
    headers = {
        "Authorization": f"Bearer {practice.tokens['admin']}",
        "Host": BASE_URL.removeprefix("http://"),
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers={"Host": headers["Host"]})
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.method.upper() == "DELETE", "/tokens" in op.path, op.path, op.method),
    )
    client = asgi.get_client(app)
    assert len(operations) >= 25
    failures: list[str] = []
    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers=headers, session=client)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} "
                        f"{case.body!r:.200} -> {response.status_code} "
                        f"{response.text[:200]}"
                    )

            try:
                run()
            except Unsatisfiable:
                # Nothing invalid can be sent to an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert failures == [], "\n".join(failures[:20])
