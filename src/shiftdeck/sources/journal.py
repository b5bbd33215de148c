"""The journal file: JSON lines, appended by any number of shiftdeck processes at once.

Each append writes whole lines to a file opened ``O_APPEND``, under an exclusive ``flock`` on
that file, followed by ``fsync``; only then does it return. So a record whose append returned
is on disk, whole, even if the process is killed the next instant, and two writers never
interleave. A writer killed *inside* its write can leave a torn last line; the
next append starts on a fresh line (it checks the last byte under the lock), so the torn line
is reported and skipped by readers and never glues onto a good record.

Errors (``ENOSPC``, ``EACCES``...) are raised as OSError to the caller, which decides how to
tell the user and whether to retry: nothing here swallows them. A failed append leaves the file
as it was, so retrying the same records writes each exactly once.

The file is ``$XDG_STATE_HOME/shiftdeck/journal.jsonl`` by default (``journal:`` in the
config), created 0600 in a directory created 0700: it records what the on-call engineer did.
It is never rotated; a record is ~200-700 bytes (an alert's records carry its labels).

Lines are the typed records of ``domain.journal`` (``Record.to_json`` / ``Record.from_json``,
which also reads every line older shiftdecks wrote).

The path must name a regular file. A FIFO, socket, directory or block device is refused with
an OSError whose ``strerror`` says so (opening a FIFO to read would wait for a writer forever).
A character device (``/dev/null``, ``/dev/full``) may be written to, never blocks (the file is
opened non-blocking), and reads as an empty journal: a device keeps no records.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path

import orjson

from ..domain.journal import ReadPool, Record, format_time
from ..domain.packed_records import Packed, pack

CHUNK = 1 << 20
"""Bytes of lines a batch is written in (`Journal.extend`)."""
_PREFIX = b'{"at":"'
_STAMP_END = len(_PREFIX) + len("2026-11-22T14:00:00.000000Z")


@dataclass(frozen=True, slots=True)
class JournalRead:
    records: tuple[Record, ...]
    """In file order (which is the order they were appended)."""
    corrupt: tuple[tuple[int, str], ...]
    """(line number, reason) of each line skipped; 1-based line numbers."""


@dataclass(frozen=True, slots=True)
class PackedRead:
    packed: tuple[Packed, ...]
    """In file order, packed (`domain.packed_records`)."""
    corrupt: tuple[tuple[int, str], ...]
    """As JournalRead's."""


def default_journal_path(environ: Mapping[str, str] = os.environ) -> Path:
    """$XDG_STATE_HOME/shiftdeck/journal.jsonl (default ~/.local/state/shiftdeck/...)."""
    xdg = environ.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".local" / "state"
    return base / "shiftdeck" / "journal.jsonl"


def encode(record: Record) -> bytes:
    """One journal line: compact JSON, ``at`` first, ending in a newline."""
    return orjson.dumps(record.to_json()) + b"\n"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, record: Record) -> None:
        """Write one record durably (see the module docstring); raises OSError."""
        self._write((encode(record),))

    def extend(self, records: Iterable[Record]) -> None:
        """Write several records under one lock with one fsync (an alert storm's FIRING
        records, say): all or, if the process dies inside the writes, a prefix. They are
        encoded CHUNK bytes at a time, never held whole (50k alerts' are ~26 MB)."""
        chunks = _chunks(records)
        first = next(chunks, b"")
        if first:
            self._write(chain((first,), chunks))

    def read(self, since: datetime | None = None, newest: int | None = None) -> JournalRead:
        """Every readable record (at or after ``since`` when given; of the last ``newest``
        lines when given), and the lines skipped.

        A missing file is an empty journal. Blank lines are ignored. A line that is not JSON,
        or not a record, is reported with its line number and skipped, as is a torn last line
        (a writer killed mid-write). Lines older than ``since`` are skipped without being
        parsed when they start the way shiftdeck writes them; with ``newest``, the file is
        streamed and only its last ``newest`` such lines are kept and parsed (memory stays
        bounded however long the file). Other OSErrors are raised.
        """
        corrupt: list[tuple[int, str]] = []
        records = tuple(self._records(since, newest, corrupt))
        return JournalRead(records, tuple(corrupt))

    def read_packed(self, since: datetime | None = None,
                    newest: int | None = None) -> PackedRead:
        """`read`, each record packed as soon as it is read (as the Shift keeps them): the
        records' objects never pile up between the strings and times the packed ones keep.
        Read whole and then packed, a storm's 50k records left 66 MiB behind; this way 37."""
        corrupt: list[tuple[int, str]] = []
        packed = tuple(map(pack, self._records(since, newest, corrupt)))
        return PackedRead(packed, tuple(corrupt))

    def _records(self, since: datetime | None, newest: int | None,
                 corrupt: list[tuple[int, str]]) -> Iterator[Record]:
        try:
            fd = _open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        if stat.S_ISCHR(os.fstat(fd).st_mode):
            os.close(fd)
            return
        pool = ReadPool()
        with os.fdopen(fd, "rb") as handle:
            lines = _lines(handle, since)
            for number, line in deque(lines, newest) if newest is not None else lines:
                try:
                    record = _parse(line, pool)
                except ValueError as err:
                    corrupt.append((number, str(err)))
                    continue
                if since is None or record.at >= since:
                    yield record

    # -- internals ------------------------------------------------------------------------

    def _write(self, chunks: Iterable[bytes]) -> None:
        """Write each chunk of whole lines under the lock; then fsync."""
        directory = self.path.parent
        created_dir = False
        if not directory.is_dir():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            created_dir = True
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
        try:
            fd = _open(self.path, flags | os.O_EXCL)
            created = True
        except FileExistsError:
            fd = _open(self.path, flags)
            created = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            torn = size and _last_byte(fd, size) != b"\n"
            try:
                if torn:  # a torn line before us: start ours on a line of its own
                    _write_all(fd, b"\n")
                for chunk in chunks:
                    _write_all(fd, chunk)
                os.fsync(fd)
            except OSError:
                # A full disk can take part of the batch before it refuses the rest: cut that
                # part off (we still hold the lock), so the caller's retry of the whole batch
                # neither duplicates records nor leaves a torn line.
                _truncate(fd, size)
                raise
        finally:
            os.close(fd)  # releases the lock
        if created:
            _fsync_directory(directory)
            if created_dir:
                _fsync_directory(directory.parent)


def _chunks(records: Iterable[Record]) -> Iterator[bytes]:
    """The records' lines, joined CHUNK bytes at a time (the last chunk may be shorter)."""
    lines: list[bytes] = []
    size = 0
    for record in records:
        line = encode(record)
        lines.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(lines)
            lines, size = [], 0
    if lines:
        yield b"".join(lines)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "write wrote nothing")
        view = view[written:]


def special_file_kind(path: Path) -> str:
    """'a FIFO', 'a directory'... for a path that exists and is neither a regular file nor a
    character device; '' otherwise (a missing file is created on the first record)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    return _refused_kind(mode)


def _refused_kind(mode: int) -> str:
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode):
        return ""
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _open(path: Path, flags: int) -> int:
    """Open without blocking (a FIFO would wait for its other end) and refuse what is not a
    regular file or a character device."""
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    kind = _refused_kind(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise OSError(errno.EINVAL, f"{kind}, not a regular file", str(path))
    return fd


def _lines(handle: Iterable[bytes], since: datetime | None) -> Iterator[tuple[int, bytes]]:
    """(1-based number, line) of the non-blank lines not known to be older than `since`."""
    since_key = format_time(since).encode() if since is not None else None
    for number, line in enumerate(handle, 1):
        if (since_key is None or not _older(line, since_key)) and not line.isspace():
            yield number, line


def _parse(line: bytes, pool: ReadPool | None = None) -> Record:
    """One line's record; ValueError says why it is not one."""
    try:
        obj = orjson.loads(line.strip())
    except orjson.JSONDecodeError:
        torn = not line.endswith(b"\n")
        raise ValueError("incomplete last line (a write was interrupted)" if torn
                         else "not JSON") from None
    try:
        return Record.from_json(obj, pool)
    except ValueError as err:
        raise ValueError(f"not a record: {err}") from None


def _older(line: bytes, since_key: bytes) -> bool:
    """True for a line shiftdeck wrote (``{"at":"<fixed-width UTC time>"``) before since_key."""
    return (line.startswith(_PREFIX) and line[_STAMP_END - 1:_STAMP_END + 1] == b'Z"'
            and line[len(_PREFIX):_STAMP_END] < since_key)


def _truncate(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass  # not a regular file (/dev/full), or truly stuck: the caller hears the first error


def _last_byte(fd: int, size: int) -> bytes:
    return os.pread(fd, 1, size - 1)


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable too. Some filesystems refuse: that is not an error
    worth failing an append for, the data itself is synced."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
