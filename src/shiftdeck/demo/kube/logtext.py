"""The demo pods' log lines: access logs, a failed migration, an OOM warm-up, a worker whose
event loop blocks, sidecars, databases. Deterministic for a given clock and seed."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Protocol

_MIN, _HOUR = timedelta(minutes=1), timedelta(hours=1)


class Teller(Protocol):
    """What the log writers need from the cluster builder: its clock reading and its dice."""

    now: datetime
    rng: random.Random


def _stamp(at: datetime, rng: random.Random) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _timeline(b: Teller, count: int, span: timedelta, end: timedelta = timedelta()) -> list[datetime]:
    """`count` moments, in order, spread over the `span` that ends `end` before now."""
    start, step = b.now - end - span, span / count
    jitter = int(step.total_seconds() * 800)  # ms, under the step: the order holds
    return [start + step * i + timedelta(milliseconds=b.rng.randrange(jitter + 1)) for i in range(count)]


_BACKEND_PATHS = ("/api/v1/runs", "/api/v1/runs/{n}", "/api/v1/suites/{n}/results", "/api/v1/projects",
                  "/healthz", "/api/v1/runs/{n}/artifacts")


def backend_access_log(b: Teller, tag: str) -> list[str]:
    rng = b.rng
    lines = []
    errors = {37, 88}
    for i, at in enumerate(_timeline(b, 140, 50 * _MIN)):
        stamp = _stamp(at, rng)
        if i in errors:
            lines.append(f"{stamp} ERROR upstream postgresql.qawave.svc:5432: read: connection reset by peer "
                         f"(request_id={uuid.UUID(int=rng.getrandbits(128)).hex[:12]}, retry 1/3)")
        elif i % 29 == 11:
            lines.append(f"{stamp} WARN  slow query took {rng.randrange(1100, 2900)}ms: "
                         "SELECT ... FROM test_runs WHERE project_id = $1 ORDER BY started_at DESC")
        else:
            path = rng.choice(_BACKEND_PATHS).format(n=rng.randrange(1000, 9999))
            status = rng.choice((200, 200, 200, 200, 201, 304, 404))
            method = "POST" if status == 201 else "GET"
            lines.append(f"{stamp} INFO  {method} {path} {status} {rng.randrange(3, 180)}ms "
                         f"version={tag}")
    return lines


def backend_crash_log(b: Teller, start: datetime, tag: str) -> list[str]:
    rng = b.rng
    steps = [
        f"INFO  backend {tag} (commit 4e1d9b2) starting, pid 1",
        "INFO  config loaded from /etc/backend/config.yaml (env=production)",
        "INFO  connecting to postgresql.qawave.svc:5432 database=qawave pool_size=20",
        "INFO  connected to PostgreSQL 16.4",
        "INFO  schema at 0041_run_tags; applying 1 migration",
        "INFO  applying migration 0042_add_run_priority",
        'ERROR migration 0042_add_run_priority failed: column "priority" of relation "test_runs" already '
        "exists (SQLSTATE 42701)",
        "ERROR refusing to serve with a partially migrated schema; exiting with status 1",
    ]
    lines, at = [], start
    for text in steps:
        lines.append(f"{_stamp(at, rng)} {text}")
        at += timedelta(milliseconds=120 + rng.randrange(200))
    return lines


def oom_log(b: Teller, start: datetime, tag: str) -> list[str]:
    rng = b.rng
    lines = [f"INFO  profile-services {tag} starting; container memory limit 256Mi",
             "INFO  listening on :8080",
             "INFO  warming profile cache from profile-db.profile.svc:5432 (412000 profiles)"]
    rss = 48
    for done in range(25000, 375001, 25000):
        rss += rng.randrange(12, 16)
        lines.append(f"INFO  cache warm-up: {done}/412000 profiles loaded (rss {rss}Mi)")
        if rss > 230 and "WARN" not in lines[-2]:
            lines.append(f"WARN  rss {rss}Mi is {rss * 100 // 256}% of the 256Mi memory limit")
    return [f"{_stamp(start + i * timedelta(seconds=9), rng)} {text}" for i, text in enumerate(lines)]


def api_log(b: Teller, tag: str, alerting: bool, previous: bool = False) -> list[str]:
    rng = b.rng
    end = 47 * _MIN if previous else timedelta()
    lines = []
    for i, at in enumerate(_timeline(b, 120, 40 * _MIN, end)):
        stamp = _stamp(at, rng)
        if alerting and i % 30 == 29:
            heap = 1.45 + i / 120 * (0.3 if previous else 0.2)
            lines.append(f'{stamp} level=warn msg="heap in use {heap:.2f}GiB of 1.80GiB limit, evicting '
                         f'thumbnail cache" version={tag}')
        elif i == 63:
            lines.append(f'{stamp} level=error msg="render clip failed" clip_id={rng.randrange(10**6)} '
                         'err="ffmpeg: exit status 1: moov atom not found"')
        else:
            lines.append(f'{stamp} level=info msg=request method=GET path=/v1/clips/{rng.randrange(10**6)} '
                         f"status=200 duration={rng.randrange(8, 240)}ms")
    return lines


def envoy_log(b: Teller) -> list[str]:
    rng = b.rng
    return [f'[{_stamp(at, rng)}] "GET /v1/clips/{rng.randrange(10**6)} HTTP/1.1" 200 - 0 '
            f'{rng.randrange(500, 90000)} {rng.randrange(5, 250)} - "clipper-web/5.3" '
            f'"{uuid.UUID(int=rng.getrandbits(128))}"'
            for at in _timeline(b, 60, 30 * _MIN)]


def worker_log(b: Teller, tag: str, previous: bool = False) -> list[str]:
    rng = b.rng
    end = 20 * _MIN if previous else timedelta()
    lines = []
    for i, at in enumerate(_timeline(b, 90, 30 * _MIN, end)):
        stamp = _stamp(at, rng)
        task = 88000 + i * 7 + (0 if previous else 500)
        if i in (41, 77):
            lines.append(f"{stamp} ERROR task {task} (sync_invoices) failed: OperationalError: "
                         "connection pool exhausted (100/100 in use, waited 30s)")
        else:
            name = rng.choice(("render_report", "sync_invoices", "send_digest", "resize_images"))
            lines.append(f"{stamp} INFO  task {task} ({name}) done in {rng.randrange(80, 4000) / 1000:.2f}s "
                         f"worker={tag}")
    if previous:
        lines.append(f"{_stamp(b.now - end, rng)} ERROR event loop blocked for 31.2s; health check failing")
    return lines


def service_log(b: Teller, app: str, tag: str) -> list[str]:
    rng = b.rng
    colored = app == "auth"  # this one logs with ANSI colours, as many apps do on a tty
    info = "\x1b[32mINFO\x1b[0m " if colored else "INFO  "
    lines = [f"{info}{app} {tag} listening on :8080"]
    for _ in range(30):
        path = rng.choice(("v1/items", "v1/hooks", "healthz"))
        lines.append(f"{info}{rng.choice(('GET', 'POST'))} /{path} "
                     f"{rng.choice((200, 200, 200, 202, 204))} {rng.randrange(2, 90)}ms")
    return [f"{_stamp(at, rng)} {text}" for at, text in zip(_timeline(b, len(lines), 25 * _MIN), lines,
                                                            strict=True)]


def stateful_log(b: Teller, service: str, crashed: bool = False) -> list[str]:
    rng = b.rng
    if service == "redis":
        texts = ["1:M * Ready to accept connections tcp", "1:M * Background saving started by pid 4521",
                 "4521:C * DB saved on disk", "1:M * Background saving terminated with success"] * 5
        if crashed:
            texts.append("1:M # Out of memory allocating 262144 bytes! maxmemory 512mb reached")
    else:
        texts = ["LOG:  checkpoint starting: time",
                 f"LOG:  checkpoint complete: wrote {rng.randrange(300, 3000)} buffers; sync files=41"] * 8
    return [f"{_stamp(at, rng)} {text}" for at, text in zip(_timeline(b, len(texts), 2 * _HOUR), texts,
                                                            strict=True)]
