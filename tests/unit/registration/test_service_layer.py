"""Registration's service layer on the in-memory document store: each command loads by `_id`,
lets the domain decide and commits its events once; what the outboxes receive is what the relay
would publish. No broker, no database: each test runs in milliseconds."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from emm_common.auth import TokenIssuer, TokenVerifier, ensure_key_pair
from emm_common.store.memory import MemoryDocumentStore
from emm_registration import bootstrap
from emm_registration.domain.errors import Conflict, NotFound, Unauthorized
from emm_registration.domain.participant import participant_id_for
from emm_registration.service_layer.commands import Registration
from emm_registration.service_layer.sign_in import LinkSignIn
from tests.unit.registration.examples import NOW, session_details

SESSION = "ses-dakar-1"
DAY1 = date(2026, 5, 17)
FIRST_MORNING = datetime(2026, 5, 17, 9, 5, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Crash(Exception):
    """The process died here."""


class CrashingStore(MemoryDocumentStore):
    """Dies once, before or after the first write of a collection, as a killed process would."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_before: str | None = None
        self.crash_after: str | None = None

    async def insert(self, collection, document, events=()):
        self._maybe_crash("before", collection)
        inserted = await super().insert(collection, document, events)
        self._maybe_crash("after", collection)
        return inserted

    async def replace(self, collection, current, document, events=()):
        self._maybe_crash("before", collection)
        await super().replace(collection, current, document, events)
        self._maybe_crash("after", collection)

    def _maybe_crash(self, when: str, collection: str) -> None:
        if getattr(self, f"crash_{when}") == collection:
            setattr(self, f"crash_{when}", None)
            raise Crash(f"killed {when} writing {collection}")


class Service:
    """The service layer as the API builds it, on a memory store; `published` is every event the
    commits handed to the relay, in order."""

    def __init__(self, store: MemoryDocumentStore | None = None) -> None:
        self.store = store or MemoryDocumentStore()
        self.published: list[dict] = []
        self.store.on_commit = lambda collection, doc_id, entries: self.published.extend(entries.values())
        self.clock = Clock()
        self.registration = Registration(bootstrap.stores(self.store), clock=self.clock)

    def types(self) -> list[str]:
        return [e["type"].removeprefix("org.iom.emm.").removesuffix(".v1") for e in self.published]

    def take(self) -> list[str]:
        types = self.types()
        self.published.clear()
        return types


def person(name: str, **overrides) -> dict:
    return {"email": f"{name}@example.org", "full_name": f"{name.capitalize()} Diallo", "country": "SN",
            "preferred_language": "fr", "consent_to_contact": True, **overrides}


@pytest.fixture
async def service() -> Service:
    service = Service()
    await service.registration.schedule_session(session_details(capacity=2), "usr-organizer", SESSION)
    service.published.clear()
    return service


async def test_scheduling_twice_with_one_id_stores_and_publishes_it_once(service):
    session, created = await service.registration.schedule_session(session_details(), "usr-organizer", SESSION)
    assert not created and session.capacity == 2
    assert service.take() == []


async def test_enrolling_registers_the_person_and_publishes_contact_and_enrollment(service):
    result = await service.registration.enroll(SESSION, person("aminata"), "participant")
    assert result.created and result.enrollment.status == "registered"
    assert service.take() == ["contact.updated", "enrollment.registered"]
    assert (await service.registration.participant(result.participant.participant_id)).session_ids == [SESSION]
    assert (await service.registration.session(SESSION)).seats_taken == 1


async def test_enrolling_the_same_person_again_returns_the_enrollment_and_writes_nothing(service):
    first = await service.registration.enroll(SESSION, person("aminata"), "participant")
    service.published.clear()
    service.store.round_trips.reset()
    again = await service.registration.enroll(SESSION, person("aminata"), "organizer")
    assert not again.created and again.enrollment.enrollment_id == first.enrollment.enrollment_id
    assert service.take() == []
    assert service.store.round_trips.writes == 0


async def test_a_full_session_waitlists_in_order_and_a_cancellation_promotes_the_first(service):
    enrolled = [await service.registration.enroll(SESSION, person(name), "participant")
                for name in ("aminata", "moussa", "fatou", "kofi")]
    assert [r.enrollment.status for r in enrolled] == ["registered", "registered", "waitlisted", "waitlisted"]
    service.published.clear()
    session = await service.registration.cancel_enrollment(SESSION, enrolled[0].enrollment.enrollment_id, "ill")
    assert service.take() == ["enrollment.cancelled", "enrollment.promoted"]
    assert session.enrollments[enrolled[2].enrollment.enrollment_id].status == "registered"
    assert session.enrollments[enrolled[3].enrollment.enrollment_id].status == "waitlisted"


async def test_enrolling_in_an_unknown_session_writes_nobody(service):
    with pytest.raises(NotFound):
        await service.registration.enroll("ses-nowhere", person("aminata"), "participant")
    with pytest.raises(NotFound):
        await service.registration.participant(participant_id_for("aminata@example.org"))
    assert service.take() == []


async def test_an_enrollment_costs_two_reads_and_four_writes_and_a_mark_two_and_two(service):
    service.store.round_trips.reset()
    await service.registration.enroll(SESSION, person("aminata"), "participant")
    calls = service.store.round_trips
    assert (calls.reads, calls.writes) == (2, 4)  # session and person: read each, commit and write each
    await service.registration.enroll(SESSION, person("moussa"), "participant")
    await service.registration.change_status(SESSION, "start")
    service.clock.now = FIRST_MORNING
    aminata = participant_id_for("aminata@example.org")
    calls.reset()
    await service.registration.record_attendance(SESSION, DAY1, [{"participant_id": aminata, "status": "present"}],
                                                 "par-facilitator-1")
    assert (calls.reads, calls.writes) == (2, 2)  # the session (read only), the sheet (read, commit, write)


async def test_each_attendance_mark_is_published_once_and_the_latest_wins(service):
    aminata = (await service.registration.enroll(SESSION, person("aminata"), "participant")).participant
    await service.registration.change_status(SESSION, "start")
    service.published.clear()
    mark = [{"participant_id": aminata.participant_id, "status": "present"}]
    for minutes, status in enumerate(["present", "absent", "present"]):
        service.clock.now = FIRST_MORNING + timedelta(minutes=minutes)
        await service.registration.record_attendance(SESSION, DAY1, [{**mark[0], "status": status}], "par-fac")
    ids = Counter(e["id"] for e in service.published)
    assert service.types() == ["attendance.recorded"] * 3 and set(ids.values()) == {1}
    _, sheet = await service.registration.attendance(SESSION)
    assert sheet.mark_of(aminata.participant_id, DAY1).status == "present"
    assert sheet.mark_of(aminata.participant_id, DAY1).recorded_at == FIRST_MORNING + timedelta(minutes=2)


async def test_marking_someone_without_a_seat_is_refused_and_publishes_nothing(service):
    await service.registration.change_status(SESSION, "start")
    service.clock.now = FIRST_MORNING
    service.published.clear()
    with pytest.raises(Conflict):
        await service.registration.record_attendance(SESSION, DAY1, [{"participant_id": "par-x", "status": "present"}],
                                                     "par-fac")
    assert service.take() == []


async def test_the_clock_takes_each_step_once_and_a_second_clock_finds_nothing_to_do(service):
    other = Registration(bootstrap.stores(service.store), clock=service.clock)  # a second clock instance
    steps = []
    for now in (datetime(2026, 4, 2, 12, tzinfo=timezone.utc), datetime(2026, 5, 17, 8, 30, tzinfo=timezone.utc),
                datetime(2026, 5, 18, 18, 30, tzinfo=timezone.utc), datetime(2026, 6, 2, 0, tzinfo=timezone.utc)):
        service.clock.now = now
        steps.append(await service.registration.advance(SESSION))
        assert await other.advance(SESSION) is None
    assert steps == ["open", "start", "complete", "close_evaluation"]
    events = service.published
    assert len({e["id"] for e in events}) == len(events) == 4
    assert (await service.registration.session(SESSION)).sequence == 3


async def test_an_organizer_s_own_step_is_not_taken_again_by_the_clock(service):
    await service.registration.change_status(SESSION, "start")
    service.clock.now = datetime(2026, 5, 17, 8, 30, tzinfo=timezone.utc)
    assert await service.registration.advance(SESSION) is None
    assert service.take() == ["session.updated"]


async def test_sign_in_links_are_requested_three_times_an_hour_per_address(service):
    aminata = await service.registration.enroll(SESSION, person("aminata"), "participant")
    service.published.clear()
    granted = [await service.registration.request_sign_in_links("Aminata@example.org") for _ in range(4)]
    assert granted == [True, True, True, False]
    requested = [e for e in service.published if e["type"].endswith("sign_in.requested.v1")]
    assert len(requested) == 3
    assert {e["data"]["recipient_id"] for e in requested} == {aminata.participant.participant_id}
    assert await service.registration.request_sign_in_links("nobody@example.org") is True
    service.clock.now = NOW + timedelta(hours=1, seconds=1)
    assert await service.registration.request_sign_in_links("aminata@example.org") is True


async def test_a_staff_link_signs_in_once_and_a_participant_link_again_and_again(service, tmp_path):
    ensure_key_pair(tmp_path / "jwt.pem", tmp_path / "jwt.pub.pem")
    issuer = TokenIssuer((tmp_path / "jwt.pem").read_bytes())
    sign_in = LinkSignIn(service.registration, TokenVerifier((tmp_path / "jwt.pub.pem").read_bytes()), issuer,
                         bootstrap.used_links(service.store))
    member, _ = await service.registration.add_staff({"email": "awa@iom.int", "full_name": "Awa Sow",
                                                      "preferred_language": "fr", "role": "facilitator",
                                                      "offices": ["RO Dakar"]})
    staff_link = issuer.issue_link("staff-sign-in", member.staff_id, 600)
    assert (await sign_in.sign_in(staff_link)).role == "facilitator"
    with pytest.raises(Unauthorized):
        await sign_in.sign_in(staff_link)
    aminata = await service.registration.enroll(SESSION, person("aminata"), "participant")
    link = issuer.issue_link("participant-sign-in", aminata.participant.participant_id, 600, SESSION)
    first, second = await sign_in.sign_in(link), await sign_in.sign_in(link)
    assert first.enrollment_id == second.enrollment_id == aminata.enrollment.enrollment_id


async def test_a_crash_between_the_person_and_the_session_is_repaired_by_the_retry():
    store = CrashingStore()
    service = Service(store)
    await service.registration.schedule_session(session_details(capacity=2), "usr-organizer", SESSION)
    service.published.clear()
    store.crash_before = "sessions_commits"  # the person is written, the session is not
    with pytest.raises(Crash):
        await service.registration.enroll(SESSION, person("aminata"), "participant")
    assert service.take() == ["contact.updated"]  # the person's details: true, and harmless alone
    assert (await service.registration.session(SESSION)).seats_taken == 0
    retried = await service.registration.enroll(SESSION, person("aminata"), "participant")
    assert retried.created and service.take() == ["enrollment.registered"]
    session = await service.registration.session(SESSION)
    assert [e.participant_id for e in session.enrollments.values()] == [retried.participant.participant_id]


async def test_a_crash_after_the_commit_shows_the_change_and_the_next_change_repairs_the_document():
    store = CrashingStore()
    service = Service(store)
    await service.registration.schedule_session(session_details(capacity=2), "usr-organizer", SESSION)
    store.crash_after = "sessions_commits"  # committed (and its events with it), the readers' copy not written
    with pytest.raises(Crash):
        await service.registration.enroll(SESSION, person("aminata"), "participant")
    assert (await service.registration.session(SESSION)).seats_taken == 1
    service.published.clear()
    again = await service.registration.enroll(SESSION, person("aminata"), "participant")
    assert not again.created and service.take() == []
    await service.registration.enroll(SESSION, person("moussa"), "participant")
    listed = await service.registration.sessions()  # listings read the readers' copies only
    assert [s.seats_taken for s in listed] == [2]


async def test_two_writers_of_one_session_never_overbook():
    store = MemoryDocumentStore()
    first = Service(store)
    await first.registration.schedule_session(session_details(capacity=1), "usr-organizer", SESSION)
    second = Registration(bootstrap.stores(store), clock=first.clock)  # another process: its own locks
    stale = await first.registration.stores.sessions.load(SESSION)
    await second.enroll(SESSION, person("moussa"), "participant")
    # The first process decided on what it read before the second committed: its commit is refused,
    # it loads again and decides again.
    result = await first.registration._change_session(
        SESSION, lambda s: s.enroll({"participant_id": "par-aminata", "full_name": "Aminata Diallo", "country": "SN",
                                     "preferred_language": "fr"}, "participant", NOW, "enr-aminata"), stale)
    assert result[1].status == "waitlisted"
    assert (await first.registration.session(SESSION)).seats_taken == 1
