"""Schemathesis hooks for the API fuzzing tests (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def error_names_the_problem(ctx, response, case):
    """Every 4xx answers with a JSON `detail` that says what is wrong."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and body.get("detail"), f"{response.status_code} without a detail: {body!r}"
