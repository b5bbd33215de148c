"""Records read from the journal in one read share their equal strings and times (a storm's
50k records kept 102 MiB as separate copies), and read exactly as each line alone reads: the
sharing skips no cleaning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson

from shiftdeck.domain.journal import AlertFired, AlertRef, AlertResolved, Record
from shiftdeck.domain.packed_records import pack
from shiftdeck.sources.journal import Journal

from .support.factories import NOW, make_alert


def _ref(pod: str) -> AlertRef:
    return AlertRef.of(make_alert("DiskFilling", "warning", pod=pod, namespace="ns-1",
                                  age=timedelta(minutes=5)))


def _lines(path: Path) -> list[Record]:
    return [Record.from_json(orjson.loads(line)) for line in path.read_bytes().splitlines()]


def test_one_alerts_records_share_its_strings_and_every_record_shares_label_names(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    one, other = _ref("web-1"), _ref("web-2")
    journal.extend([AlertFired(NOW, "alice", one, "disk filling"),
                    AlertFired(NOW, "alice", other, "disk filling"),
                    AlertResolved(NOW + timedelta(minutes=3), "alice", one, "disk filling")])

    fired, second, resolved = journal.read().records

    assert (fired, second, resolved) == tuple(_lines(journal.path))
    assert fired.alert is not None and resolved.alert is not None and second.alert is not None
    assert resolved.alert.fingerprint is fired.alert.fingerprint
    assert resolved.alert.starts_at is fired.alert.starts_at
    assert [v for _, v in resolved.alert.labels] == [v for _, v in fired.alert.labels]
    assert all(a is b for (_, a), (_, b) in zip(resolved.alert.labels, fired.alert.labels))
    assert all(a is b for (a, _), (b, _) in zip(second.alert.labels, fired.alert.labels))
    assert second.at is fired.at and second.text is fired.text and second.user is fired.user


def test_a_shared_string_that_needs_cleaning_is_still_cleaned_in_every_record(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    line = {"at": "2026-11-22T14:00:00.000000Z", "kind": "firing", "user": "al\x1b[2Jice",
            "fingerprint": "abc", "alertname": "Disk\u202eFilling",
            "labels": {"alertname": "Disk\u202eFilling", "pod": "web\x07-1", "n": 3},
            "text": "line one\nline two\x9b", "data": {"starts_at": "2026-11-22T13:00:00Z"}}
    path.write_bytes(orjson.dumps(line) + b"\n" + orjson.dumps(line) + b"\n")

    first, second = Journal(path).read().records

    assert first == second == _lines(path)[0]
    assert first.user == "al[2Jice" and first.text == "line one\nline two"
    assert first.alert is not None and first.alert.name == "DiskFilling"
    assert dict(first.alert.labels) == {"alertname": "DiskFilling", "pod": "web-1"}


def test_a_packed_read_packs_each_record_of_a_read_and_reports_the_same_skipped_lines(
        tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.extend([AlertFired(NOW, "alice", _ref("web-1"), "disk filling"),
                    AlertResolved(NOW + timedelta(minutes=3), "alice", _ref("web-1"), "")])
    with journal.path.open("ab") as handle:
        handle.write(b'{"not": "a record"}\n{"at": "2026-11-22T14:0')

    read, packed = journal.read(), journal.read_packed()

    assert packed.packed == tuple(map(pack, read.records)) and len(read.records) == 2
    assert packed.corrupt == read.corrupt and len(read.corrupt) == 2
