"""Schemathesis against the registration API's own OpenAPI document, with a valid organizer
token and all of schemathesis's checks (tests/integration/fuzzing.py): no 5xx, every status
documented, schema-valid input accepted and schema-violating input refused, and every 4xx says
what is wrong."""

from __future__ import annotations

import pytest

from tests.integration.fuzzing import assert_no_problem_found, run_schemathesis
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

# Schema-valid input the domain may still refuse with a 422, by a rule JSON Schema cannot say.
SESSION_RULES = ("the end date is not before the start date, enrollment closes after it opens (two fields compared), "
                 "the time zone is one of the IANA database's")
PHONE_RULE = "a phone number is valid in the person's country (phonenumbers' metadata, not a pattern)"
NOT_APPLICABLE = {
    "POST /sessions": {"positive_data_acceptance": SESSION_RULES},
    "PATCH /sessions/{session_id}": {"positive_data_acceptance": SESSION_RULES + ", against the stored dates too"},
    "POST /sessions/{session_id}/enrollments": {"positive_data_acceptance": PHONE_RULE},
    "POST /sessions/{session_id}/enrollments/bulk": {"positive_data_acceptance": PHONE_RULE},
    "PATCH /staff/{staff_id}": {"positive_data_acceptance": "an organizer keeps an office unless regional: the "
                                                            "change is checked against the stored record"},
}


def test_no_generated_request_breaks_the_contract(topic_prefix, unique, keys, issue):
    api = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    try:
        result = run_schemathesis(api.url, issue("organizer")["Authorization"], not_applicable=NOT_APPLICABLE)
    finally:
        api.stop()
    assert_no_problem_found(result)
