"""Respondent pseudonyms and seals: this service can tell whose an anonymous answer is; nobody else can."""

from __future__ import annotations

import pytest

from emm_evaluation.domain.respondents import InvalidSeal, open_seal, respondent_ref, seal_respondent

KEY = b"local-respondent-key"


def test_the_respondent_reference_is_stable_per_session_and_reveals_nobody():
    ref = respondent_ref(KEY, "ses-1", "par-1")
    assert ref == respondent_ref(KEY, "ses-1", "par-1") and len(ref) == 33 and "par-1" not in ref
    assert ref not in (respondent_ref(KEY, "ses-2", "par-1"), respondent_ref(b"other", "ses-1", "par-1"))


def test_a_seal_opens_to_its_participant_with_the_service_key():
    seal = seal_respondent(KEY, "ses-1", "sub-1", "par-aminata")
    assert open_seal(KEY, "ses-1", "sub-1", seal) == "par-aminata"


def test_two_seals_of_one_person_share_nothing_an_outsider_could_match():
    first, second = (seal_respondent(KEY, "ses-1", sub, "par-aminata") for sub in ("sub-1", "sub-2"))
    again = seal_respondent(KEY, "ses-1", "sub-1", "par-aminata")
    assert len({first, second, again}) == 3  # a fresh nonce each time, even for the same submission
    assert "aminata" not in first and respondent_ref(KEY, "ses-1", "par-aminata") not in first


@pytest.mark.parametrize("session_id, submission_id, key", [
    ("ses-2", "sub-1", KEY),  # moved to another session
    ("ses-1", "sub-9", KEY),  # moved to another submission
    ("ses-1", "sub-1", b"another service's key"),
])
def test_a_seal_opens_only_for_its_own_submission_and_key(session_id, submission_id, key):
    seal = seal_respondent(KEY, "ses-1", "sub-1", "par-aminata")
    with pytest.raises(InvalidSeal):
        open_seal(key, session_id, submission_id, seal)


@pytest.mark.parametrize("seal", ["s1.", "s1.!!!", "s2.abcdefghijklmnopqrstuvwxyz0123456789ABCD", "r" + "0" * 32])
def test_a_forged_seal_is_refused(seal):
    with pytest.raises(InvalidSeal):
        open_seal(KEY, "ses-1", "sub-1", seal)
