"""Choosing dead letters to republish, and what a republished record carries (pure: no broker)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emm_common.consumer import ConsumedRecord
from emm_common.dead_letters import REPUBLISHED_FROM, DeadLetter, OffsetRange, Selection, chosen, command_line


def letter(offset: int, event_id: str | None, reason: str, failed_at: str = "2026-05-17T10:00:00+00:00",
           partition: int = 0) -> DeadLetter:
    headers = [("ce_id", event_id.encode())] if event_id else []
    headers += [("ce_type", b"org.iom.emm.attendance.recorded.v1"), ("dlq_reason", reason.encode()),
                ("dlq_service", b"evaluation"), ("dlq_original_topic", b"emm.attendance"),
                ("dlq_original_partition", b"1"), ("dlq_original_offset", str(offset * 10).encode()),
                ("dlq_failed_at", failed_at.encode())]
    return DeadLetter.of(ConsumedRecord("emm.dlq.evaluation", partition, offset, b"ses-1", b'{"day": 1}', headers))


LETTERS = [letter(0, "e1", "malformed: org.iom.emm.attendance.recorded.v1: type: unknown event type"),
           letter(1, None, "malformed: not a CloudEvent: no ce_ headers"),
           letter(2, "e2", "handler failed 3 times: KeyError: 'days'", "2026-05-18T10:00:00+00:00"),
           letter(3, "e1", "malformed: org.iom.emm.attendance.recorded.v1: type: unknown event type", partition=1)]


def ids(letters) -> list:
    return [(x.event_id, x.record.partition, x.record.offset) for x in letters]


def test_a_republished_record_keeps_value_key_and_event_id_and_names_its_dead_letter():
    topic, value, key, headers = LETTERS[0].republished()
    assert (topic, value, key) == ("emm.attendance", b'{"day": 1}', b"ses-1")
    assert headers == [("ce_id", b"e1"), ("ce_type", b"org.iom.emm.attendance.recorded.v1"),
                       (REPUBLISHED_FROM, b"emm.dlq.evaluation/0@0")]


def test_a_record_republished_before_carries_one_mark_only():
    _, _, _, headers = LETTERS[0].republished()
    again = DeadLetter.of(ConsumedRecord("emm.dlq.evaluation", 0, 9, b"ses-1", b"{}", headers + [
        ("dlq_reason", b"x"), ("dlq_original_topic", b"emm.attendance")]))
    assert [v for k, v in again.republished()[3] if k == REPUBLISHED_FROM] == [b"emm.dlq.evaluation/0@9"]


def test_selection_by_reason_ignores_case_and_takes_each_event_once():
    assert ids(chosen(LETTERS, Selection(reason="UNKNOWN EVENT TYPE"))) == [("e1", 0, 0)]


def test_selection_by_id_by_time_and_by_offsets():
    assert ids(chosen(LETTERS, Selection(event_ids=frozenset({"e2"})))) == [("e2", 0, 2)]
    since = datetime(2026, 5, 18, tzinfo=timezone.utc)
    assert ids(chosen(LETTERS, Selection(failed_since=since))) == [("e2", 0, 2)]
    assert ids(chosen(LETTERS, Selection(failed_until=since))) == [("e1", 0, 0), (None, 0, 1)]
    assert ids(chosen(LETTERS, Selection(offsets=(OffsetRange.parse("0:1-2"),)))) == [(None, 0, 1), ("e2", 0, 2)]
    assert ids(chosen(LETTERS, Selection(offsets=(OffsetRange.parse("1:3"),)))) == [("e1", 1, 3)]


def test_selectors_combine_and_none_selects_nothing():
    assert ids(chosen(LETTERS, Selection(reason="malformed", failed_until=datetime(2026, 5, 18, tzinfo=timezone.utc),
                                         event_ids=frozenset({"e1"})))) == [("e1", 0, 0)]
    assert chosen(LETTERS, Selection()) == []
    assert len(chosen(LETTERS, Selection(everything=True))) == 3


def test_the_command_refuses_to_run_without_a_selector(capsys):
    with pytest.raises(SystemExit) as exit_:
        command_line(["--service", "evaluation"])
    assert exit_.value.code == 2 and "choose the dead letters" in capsys.readouterr().err
