"""Requests for sign-in links: at most three an hour per address, each naming its recipients."""

from datetime import timedelta

from emm_registration.adapters.documents import sign_in_requests_from_document, sign_in_requests_to_document
from emm_registration.domain.sign_in import REQUESTS_PER_HOUR, Recipient, SignInRequests, requests_id_for
from tests.unit.registration.examples import NOW, later

STAFF = Recipient("staff-sign-in", "stf-fatou")
TRAINING = Recipient("participant-sign-in", "par-fatou", "ses-dakar-tot-1")


def test_a_granted_request_records_one_event_per_recipient():
    requests = SignInRequests(requests_id_for("Fatou@example.org"))
    assert requests.request([STAFF, TRAINING], NOW, "sir-1")
    assert [(e.purpose, e.recipient_id, e.session_id, e.request_id) for e in requests.pending_events] == [
        ("staff-sign-in", "stf-fatou", None, "sir-1-0"), ("participant-sign-in", "par-fatou", "ses-dakar-tot-1", "sir-1-1")]
    assert "session_id" not in requests.pending_events[0].payload()


def test_the_fourth_request_within_an_hour_is_refused_and_changes_nothing():
    requests = SignInRequests("sir-x")
    assert all(requests.request([STAFF], later(n), f"sir-{n}") for n in range(REQUESTS_PER_HOUR))
    before = list(requests.requested_at)
    requests.pending_events.clear()
    assert not requests.request([STAFF], later(59), "sir-late")
    assert requests.pending_events == [] and requests.requested_at == before
    # an hour after the first, a place is free again
    assert requests.request([STAFF], NOW + timedelta(minutes=60, seconds=1), "sir-next")
    assert len(requests.requested_at) == REQUESTS_PER_HOUR


def test_an_unknown_address_is_counted_like_a_known_one():
    requests = SignInRequests("sir-nobody")
    assert all(requests.request([], later(n), f"sir-{n}") for n in range(REQUESTS_PER_HOUR))
    assert requests.pending_events == [] and not requests.request([], later(5), "sir-4")


def test_the_address_is_not_the_key():
    assert requests_id_for("Fatou@Example.org") == requests_id_for("fatou@example.org")
    assert "fatou" not in requests_id_for("fatou@example.org")


def test_the_document_round_trip_is_exact():
    requests = SignInRequests("sir-x")
    requests.request([STAFF], NOW, "sir-1")
    restored = sign_in_requests_from_document(sign_in_requests_to_document(requests))
    assert restored == requests
