"""The journal file: concurrent writers killed with SIGKILL, corrupt and torn lines, errors
raised, private files. Real processes and a real file; no mocks."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shiftdeck.domain.journal import NoteAdded, Record
from shiftdeck.sources.journal import Journal, default_journal_path, encode

NOW = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)

# Appends as fast as it can and prints each sequence number once append() has returned (after
# fsync). Every 7th record is ~60 kB, a write long enough for a kill to land inside.
WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from shiftdeck.domain.journal import AlertRef, NoteAdded
from shiftdeck.sources.journal import Journal

journal, name = Journal(Path(sys.argv[1])), sys.argv[2]
i = 0
while True:
    text = f"{name}-{i}" + ("x" * 60000 if i % 7 == 3 else "")
    journal.append(NoteAdded(datetime.now(UTC), name, AlertRef(str(i)), text))  # i: its seq
    sys.stdout.write(f"{i}\\n")
    sys.stdout.flush()
    i += 1
"""


def expected_text(name: str, seq: int) -> str:
    return f"{name}-{seq}" + ("x" * 60000 if seq % 7 == 3 else "")


def test_two_writers_killed_mid_burst_lose_nothing_they_confirmed(tmp_path: Path) -> None:
    path = tmp_path / "state" / "shiftdeck" / "journal.jsonl"
    names = ("w1", "w2")
    procs = {name: subprocess.Popen([sys.executable, "-c", WRITER, str(path), name],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in names}
    confirmed: dict[str, list[int]] = {name: [] for name in names}

    def drain(name: str) -> None:
        for line in procs[name].stdout:  # type: ignore[union-attr]
            if line.endswith(b"\n"):  # a number cut by the kill was never confirmed
                confirmed[name].append(int(line))

    readers = [threading.Thread(target=drain, args=(name,)) for name in names]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and min(len(c) for c in confirmed.values()) < 150:
            time.sleep(0.01)
    finally:
        for proc in procs.values():
            os.kill(proc.pid, signal.SIGKILL)
        for proc in procs.values():
            proc.wait(timeout=5)
        for reader in readers:
            reader.join(timeout=5)
    for name, proc in procs.items():
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()  # type: ignore
        assert len(confirmed[name]) >= 20, f"{name} barely wrote: the test proves nothing"

    read = Journal(path).read()
    lines = path.read_bytes().split(b"\n")
    seen: dict[tuple[str, int], Record] = {}
    for record in read.records:
        key = (record.user, int(record.fingerprint))
        assert key not in seen, f"{key} written twice"
        assert record.text == expected_text(*key), f"{key} is not whole"
        seen[key] = record
    for name in names:
        missing = [i for i in confirmed[name] if (name, i) not in seen]
        assert not missing, f"{name} confirmed {missing} but they are not in the journal"
        in_file = [i for (who, i) in seen if who == name]
        assert in_file == sorted(in_file), f"{name}'s records are out of order"
    # Only a write a kill landed inside can be torn: one per writer at most, each a prefix of
    # a record, never a mix of two writers' bytes.
    assert len(read.corrupt) <= len(names), read.corrupt
    for number, reason in read.corrupt:
        raw = lines[number - 1]
        assert raw.startswith(b'{"at":"') and raw.count(b'{"at":"') == 1, (number, reason)
    # A torn line still at the end of the file (no writer came after it) is named as such.
    for number, reason in read.corrupt:
        if number == len(lines) and lines[-1]:
            assert reason == "incomplete last line (a write was interrupted)"


def test_a_corrupt_line_in_the_middle_is_reported_with_its_number_and_skipped(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    good = [NoteAdded(NOW + timedelta(minutes=i), "alice", text=f"n{i}") for i in range(3)]
    path.write_bytes(encode(good[0]) + b"garbage {\n" + encode(good[1]) + b"\n"
                     + b'{"at": "2026-11-22T14:00:00Z", "kind": "dance", "user": "x"}\n'
                     + b"\xff\xfe not utf-8\n" + encode(good[2]))
    read = Journal(path).read()
    assert read.records == tuple(good)
    assert read.corrupt == ((2, "not JSON"), (5, "not a record: unknown kind 'dance'"),
                            (6, "not JSON"))


def test_a_torn_last_line_is_reported_and_the_next_record_starts_a_line_of_its_own(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    first, second = (NoteAdded(NOW + timedelta(minutes=i), "alice", text=f"n{i}")
                     for i in range(2))
    path.write_bytes(encode(first) + encode(first)[:30])  # a writer killed mid-write
    read = Journal(path).read()
    assert read.records == (first,)
    assert read.corrupt == ((2, "incomplete last line (a write was interrupted)"),)
    Journal(path).append(second)
    read = Journal(path).read()
    assert read.records == (first, second)
    assert read.corrupt == ((2, "not JSON"),)


def test_read_since_skips_older_records_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    assert journal.read() == journal.read(NOW)
    assert journal.read().records == () and journal.read().corrupt == ()
    records = [NoteAdded(NOW + timedelta(hours=i), "alice", text=str(i)) for i in range(4)]
    journal.extend(records)
    assert journal.read(NOW + timedelta(hours=2)).records == tuple(records[2:])
    assert journal.read().records == tuple(records)


def test_read_newest_keeps_only_the_last_records_and_parses_only_those(tmp_path: Path) -> None:
    """A storm's week of journal is millions of lines: start-up keeps the newest, and does not
    build a record for every line it then throws away."""
    path = tmp_path / "journal.jsonl"
    records = [NoteAdded(NOW + timedelta(minutes=i), "alice", text=str(i)) for i in range(10)]
    path.write_bytes(b"garbage {\n" + b"".join(encode(r) for r in records[:8]) + b"junk\n"
                     + b"".join(encode(r) for r in records[8:]))
    read = Journal(path).read(NOW + timedelta(minutes=1), newest=4)
    assert read.records == tuple(records[7:])
    assert read.corrupt == ((10, "not JSON"),)  # line 1 was never parsed
    assert Journal(path).read(newest=100).records == tuple(records)


def test_the_journal_is_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "shiftdeck" / "journal.jsonl"
    Journal(path).append(NoteAdded(NOW, "alice", text="x"))
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_raised_to_the_caller_not_swallowed() -> None:
    with pytest.raises(OSError) as info:
        Journal(Path("/dev/full")).append(NoteAdded(NOW, "alice", text="x"))
    assert info.value.errno == errno.ENOSPC


def test_default_path_follows_xdg_state_home(tmp_path: Path) -> None:
    assert default_journal_path({"XDG_STATE_HOME": str(tmp_path)}) == (
        tmp_path / "shiftdeck" / "journal.jsonl")
    assert default_journal_path({"HOME": "/home/alice", "XDG_STATE_HOME": "relative"}) == (
        Path("/home/alice/.local/state/shiftdeck/journal.jsonl"))


# -- paths that are not regular files: errors with a sentence, never a hang -----------------


@pytest.mark.timeout(30)
def test_a_fifo_journal_is_an_error_to_read_and_to_write(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    os.mkfifo(path)  # before: reading it waited for a writer forever
    journal = Journal(path)
    with pytest.raises(OSError) as read:
        journal.read()
    with pytest.raises(OSError) as write:
        journal.extend([NoteAdded(NOW, "alice", text="x")])
    assert read.value.strerror == write.value.strerror == "a FIFO, not a regular file"


@pytest.mark.timeout(30)
def test_a_directory_journal_is_an_error_to_read(tmp_path: Path) -> None:
    with pytest.raises(OSError) as read:
        Journal(tmp_path).read()
    assert read.value.strerror == "a directory, not a regular file"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.timeout(30)
def test_a_character_device_reads_as_an_empty_journal() -> None:
    # /dev/full reads endless zero bytes: before, read() grew a line without end.
    assert Journal(Path("/dev/full")).read().records == ()


@pytest.mark.timeout(60)
def test_handoff_with_a_fifo_journal_says_so_and_ends(tmp_path: Path) -> None:
    fifo = tmp_path / "journal.jsonl"
    os.mkfifo(fifo)
    config = tmp_path / "config.yaml"
    config.write_text(f"alertmanagers: [{{name: am, url: 'http://127.0.0.1:9'}}]\n"
                      f"journal: '{fifo}'\n")
    done = subprocess.run([sys.executable, "-m", "shiftdeck", "--config", str(config), "handoff"],
                          capture_output=True, text=True, timeout=45)
    assert done.returncode == 2, done.stderr
    assert (f"journal: {fifo} is a FIFO, not a regular file: name a file, e.g. "
            f"{tmp_path / 'journal.jsonl'}") in done.stderr


def test_a_large_batch_is_written_whole_without_being_held_in_memory_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An alert storm's (or a 50k start's) FIRING records: ~26 MB of lines at 50k alerts.
    Joined before the write, they doubled the dashboard's peak memory for a moment. (Chunks
    of 64 KiB here, so the test writes 1 MB, not 17.)"""
    import tracemalloc

    import shiftdeck.sources.journal as journal_module
    chunk = 64 << 10
    monkeypatch.setattr(journal_module, "CHUNK", chunk)
    records = [NoteAdded(NOW + timedelta(seconds=i), "alice", text=f"{i:06d} " + "x" * 1000)
               for i in range(1000)]
    size = sum(len(encode(r)) for r in records)
    journal = Journal(tmp_path / "journal.jsonl")
    tracemalloc.start()
    try:
        journal.extend(records)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 16 * chunk
    assert peak < 5 * chunk  # the chunk written, the next one's lines and their join
    assert journal.read().records == tuple(records)
