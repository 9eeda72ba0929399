import httpx

from emm_portal.adapters.apis import field_errors, outcome_of
from emm_portal.domain import outcomes


def test_loc_names_the_field_without_its_location():
    detail = [{"loc": ["body", "email"], "msg": "must be an email address"},
              {"loc": ["body", "participants", 0, "country"], "msg": "bad"},
              {"loc": ["path", "session_id"], "msg": "no such session"},
              {"loc": ["body", "email"], "msg": "second message for the same field"}]
    assert field_errors(detail) == {"email": "must be an email address", "participants.0.country": "bad",
                                    "session_id": "no such session"}
    assert field_errors("a plain message") == {}


def test_status_codes_become_outcomes():
    def response(status, body=None):
        return httpx.Response(status, json=body if body is not None else {"detail": "why"})

    assert isinstance(outcome_of("registration", response(401)), outcomes.NotSignedIn)
    assert isinstance(outcome_of("registration", response(403)), outcomes.NotAllowed)
    assert isinstance(outcome_of("registration", response(404)), outcomes.NotFound)
    assert isinstance(outcome_of("registration", response(503)), outcomes.Unavailable)
    refused = outcome_of("evaluation", response(409, {"detail": [{"loc": ["body", "anonymous"], "msg": "kept"}]}))
    assert isinstance(refused, outcomes.Refused) and refused.field_errors == {"anonymous": "kept"}
    invalid = outcome_of("registration", response(422, {"detail": [{"loc": ["body", "email"], "msg": "bad"}]}))
    assert isinstance(invalid, outcomes.Invalid) and invalid.message == "bad"
    assert isinstance(outcome_of("registration", httpx.Response(502, text="<html>")), outcomes.Unavailable)
