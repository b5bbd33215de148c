"""The Shift's in-memory journal: records packed into tuples the cycle collector skips."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import timedelta

import pytest

from shiftdeck.domain.journal import AlertRef, Kind, NoteAdded, open_firings, open_firings_of
from shiftdeck.domain.packed_records import firings, pack, packed_at, unpack
from shiftdeck.domain.shift import MEMORY_WINDOW, JournalView, Shift, ShiftPolicy

from .support.factories import NOW, sample_record
from .support.helpers import config_for

LABELS = (("alertname", "QAWaveBackendDown"), ("namespace", "qawave"))


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_unpacks_to_an_equal_record(kind: Kind) -> None:
    record = sample_record(kind)
    record = replace(record, alert=replace(record.alert, labels=LABELS))
    back = unpack(pack(record))
    assert back == record and type(back) is type(record)
    assert back.alert == record.alert and back.alert.labels == LABELS
    assert packed_at(pack(record)) == record.at


def test_a_record_about_no_alert_unpacks_without_one() -> None:
    note = NoteAdded(NOW, "alice", None, "handover at 9")
    assert unpack(pack(note)) == note and unpack(pack(note)).alert is None


def test_packed_records_are_untracked_by_the_cycle_collector_once_collected() -> None:
    records = [replace(sample_record(Kind.FIRING), alert=AlertRef(f"fp{i}", "Down", "P1", NOW, LABELS))
               for i in range(100)]
    packed = [pack(r) for r in records]
    assert all(gc.is_tracked(r) and gc.is_tracked(r.alert) for r in records)
    gc.collect()  # one collection: the packed tuple is flat
    assert not any(gc.is_tracked(p) for p in packed)


def test_the_view_keeps_the_window_and_gives_records_back_in_order() -> None:
    old = NoteAdded(NOW - MEMORY_WINDOW - timedelta(seconds=1), "alice", None, "old")
    new = [NoteAdded(NOW + timedelta(seconds=s), "alice", None, f"n{s}") for s in (2, 1)]
    view = JournalView().with_records([old], NOW - MEMORY_WINDOW).with_records(new, NOW)
    assert [r.text for r in view.records] == ["n1", "n2"]


def test_records_of_some_kinds_unpack_only_those() -> None:
    fired = replace(sample_record(Kind.FIRING), alert=AlertRef("fp1", "Down", "P1", NOW, LABELS))
    note = NoteAdded(NOW, "alice", None, "looking")
    view = JournalView().with_records([fired, note], NOW)
    assert view.records_of([Kind.NOTE, Kind.ACK]) == (note,)


def _ref(fp: str, starts_minutes: int | None) -> AlertRef:
    starts = None if starts_minutes is None else NOW + timedelta(minutes=starts_minutes)
    return AlertRef(fp, "Down", "P1", starts, LABELS)


def test_open_firings_read_from_packed_records_are_those_of_the_records() -> None:
    fired, resolved = sample_record(Kind.FIRING), sample_record(Kind.RESOLVED)
    at = [NOW + timedelta(seconds=s) for s in range(8)]
    records = [replace(fired, at=at[0], alert=_ref("a", 0)),
               replace(resolved, at=at[1], alert=_ref("a", 0)),      # a: closed
               replace(fired, at=at[2], alert=_ref("b", 0)),
               replace(fired, at=at[3], alert=_ref("b", 5)),         # b: the later firing
               replace(resolved, at=at[4], alert=_ref("b", 0)),      # ...an older one resolves
               replace(fired, at=at[5], alert=_ref("c", None)),     # c: no startsAt
               replace(fired, at=at[6], alert=None),
               replace(resolved, at=at[7], alert=_ref("d", None)),
               NoteAdded(at[0], "alice", _ref("e", 0), "not a firing")]
    expected = open_firings(records)
    assert expected == {("b", NOW + timedelta(minutes=5))}
    assert open_firings_of(firings(map(pack, records))) == expected


def test_a_read_journal_keeps_its_notes_indexed_and_its_open_firings() -> None:
    fired = replace(sample_record(Kind.FIRING), alert=_ref("fp1", 0))
    note = NoteAdded(NOW + timedelta(seconds=1), "alice", _ref("fp1", 0), "looking")
    config = config_for(["http://127.0.0.1:9"])
    shift = Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                  config.roster)
    read = shift.journal_read([pack(note), pack(fired)], NOW).shift
    assert read.journal_loaded
    assert read.journal.records == (fired, note)  # in time order
    assert read.journal.notes_for("fp1") == (note,)
    assert read.journal.open_at_start == {("fp1", NOW)}
