"""The Shift's in-memory journal: records packed into tuples the cycle collector skips."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import timedelta

import pytest

from shiftdeck.domain.journal import AlertRef, Kind, NoteAdded
from shiftdeck.domain.packed_records import pack, packed_at, unpack
from shiftdeck.domain.shift import MEMORY_WINDOW, JournalView

from .support.factories import NOW, sample_record

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
