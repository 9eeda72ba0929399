"""The in-memory document store (what unit tests and the rebuild use) and the generic applier:
reads in rounds with one call per collection, writes only what changed, guarded, decisions
inserted once and last. (The store's contract on both adapters: tests/integration/shared/test_store.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emm_common.envelope import new_event
from emm_common.store import VersionConflict
from emm_common.store.applier import Applier, Transition, Write
from emm_common.store.memory import MemoryDocumentStore, UnknownCollection


def an_event(n: int = 1):
    return new_event("org.iom.emm.session.completed.v1", {"session_id": f"ses-{n}", "completed_at": "2026-05-20T17:00:00Z"},
                     source="/emm/registration")


async def test_documents_come_back_as_the_server_keeps_them_and_as_fresh_copies():
    store = MemoryDocumentStore()
    at = datetime(2026, 5, 20, 17, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    await store.insert("c", {"_id": "d", "days": ("a", "b"), "at": at, "nested": {"n": [1]}})
    found = await store.get("c", "d")
    found.document["nested"]["n"].append(2)
    again = (await store.get("c", "d")).document
    assert again == {"_id": "d", "days": ["a", "b"], "at": datetime(2026, 5, 20, 16, 0, 0, 123000, tzinfo=timezone.utc),
                     "nested": {"n": [1]}}


async def test_a_store_limited_to_some_collections_refuses_the_others():
    store = MemoryDocumentStore(["sessions"])
    assert await store.get("sessions", "s1") is None
    with pytest.raises(UnknownCollection, match="knowledge_scores"):
        await store.get("knowledge_scores", "s1")


async def test_the_store_own_fields_cannot_be_written_as_state():
    with pytest.raises(ValueError, match="_version"):
        await MemoryDocumentStore().insert("c", {"_id": "d", "_version": 7})


def counter_transition(decide: bool = False) -> Transition:
    """Counts the events seen on doc `c/<key>`; with `decide`, records the first count of 2 once."""
    def reads(event, loaded):
        first = [("counters", event.data["session_id"])]
        if not all(key in loaded for key in first) or not decide:
            return first
        return [("decisions", event.data["session_id"])]

    def apply(loaded, event):
        key = event.data["session_id"]
        current = loaded.get("counters", key) or {"_id": key, "seen": []}
        seen = sorted({*current["seen"], event.data["completed_at"]})
        writes = [Write("counters", {**current, "seen": seen})]
        if decide and len(seen) >= 2:
            writes.append(Write("decisions", {"_id": key, "at": seen[1]}, (event,), once=True))
        return writes

    return Transition(reads, apply)


def completed(at: str, session: str = "ses-1"):
    return new_event("org.iom.emm.session.completed.v1", {"session_id": session, "completed_at": at},
                     source="/emm/registration")


async def test_an_unchanged_document_is_not_written_and_a_decision_is_inserted_once():
    store = MemoryDocumentStore()
    published = []
    store.on_commit = lambda collection, doc_id, entries: published.extend(entries)
    applier = Applier(store, {"org.iom.emm.session.completed.v1": counter_transition(decide=True)})
    first, second = completed("2026-05-20T17:00:00Z"), completed("2026-05-21T17:00:00Z")
    for event in (first, second, first, second):
        await applier.apply(event)
    assert (await store.get("counters", "ses-1")).version == 2  # the redeliveries wrote nothing
    assert (await store.get("decisions", "ses-1")).document == {"_id": "ses-1", "at": "2026-05-21T17:00:00Z"}
    assert published == [second.id]


async def test_a_writer_that_came_first_makes_the_applier_decide_again_on_what_it_wrote():
    class Interleaved(MemoryDocumentStore):
        """Another writer changes the document between the applier's read and its write, once."""
        raced = False

        async def replace(self, collection, current, document, events=()):
            if not self.raced:
                self.raced = True
                seen = sorted([*current.document["seen"], "2026-05-19T17:00:00Z"])
                await super().replace(collection, current, {**current.document, "seen": seen})
            await super().replace(collection, current, document, events)

    store = Interleaved()
    applier = Applier(store, {"org.iom.emm.session.completed.v1": counter_transition()})
    await applier.apply(completed("2026-05-20T17:00:00Z"))
    await applier.apply(completed("2026-05-21T17:00:00Z"))
    assert (await store.get("counters", "ses-1")).document["seen"] == [
        "2026-05-19T17:00:00Z", "2026-05-20T17:00:00Z", "2026-05-21T17:00:00Z"]


async def test_a_document_written_without_being_read_is_refused():
    transition = Transition(lambda event, loaded: [], lambda loaded, event: [Write("counters", {"_id": "x"})])
    with pytest.raises(KeyError, match="without being read"):
        await Applier(MemoryDocumentStore(), {"org.iom.emm.session.completed.v1": transition}).apply(an_event())


async def test_later_reads_may_depend_on_earlier_ones_and_each_round_is_one_call_per_collection():
    store = MemoryDocumentStore()
    await store.insert("sessions", {"_id": "ses-1", "participants": ["p1", "p2", "p3"]})
    store.round_trips.reset()
    seen = {}

    def reads(event, loaded):
        if ("sessions", "ses-1") not in loaded:
            return [("sessions", "ses-1")]
        people = loaded.get("sessions", "ses-1")["participants"]
        return [*(("trainees", f"ses-1|{p}") for p in people), *(("trainers", f"trn-{p}") for p in people)]

    def apply(loaded, event):
        seen["trainees"] = [loaded.get("trainees", f"ses-1|p{n}") for n in (1, 2, 3)]
        return []

    await Applier(store, {"org.iom.emm.session.completed.v1": Transition(reads, apply)}).apply(an_event())
    assert seen["trainees"] == [None, None, None]
    assert dict(store.round_trips.calls) == {("get", "sessions"): 1, ("get_many", "trainees"): 1,
                                             ("get_many", "trainers"): 1}


async def test_a_conflict_that_never_heals_is_raised_after_the_attempts():
    class AlwaysBehind(MemoryDocumentStore):
        async def replace(self, collection, current, document, events=()):
            raise VersionConflict("always")

    store = AlwaysBehind()
    await store.insert("counters", {"_id": "ses-1", "seen": []})
    with pytest.raises(VersionConflict, match="3 conflicting writes"):
        await Applier(store, {"org.iom.emm.session.completed.v1": counter_transition()}, attempts=3).apply(
            completed("2026-05-20T17:00:00Z"))
