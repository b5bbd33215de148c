"""sources.runbooks: runbooks over loopback HTTP and from files; the example runbooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shiftdeck.domain.commands import parse_command
from shiftdeck.domain.runbooks import RunbookSettings, front_matter_title
from shiftdeck.sources.runbooks import MAX_RUNBOOK, load_runbook

from .support.factories import make_alert

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "runbooks"
REMOTE = ("---\ntitle: Remote backend runbook\n---\n# Backend down in {{ $labels.namespace }}\n"
          "\x1b]0;pwned\x07\x1b[2J\u202eevil\n\n```bash\nkubectl get pods -n "
          "{{ $labels.namespace }}\n```\n")
PAGES: dict[str, tuple[int, str, bytes]] = {
    "/rb/backend.md": (200, "text/markdown; charset=utf-8", REMOTE.encode()),
    "/rb/plain.md": (200, "text/plain", b"# plain\n"),
    "/rb/wiki": (200, "text/html", b"<html>wiki</html>"),
    "/rb/logo.png": (200, "image/png", b"\x89PNG\r\n"),
    "/rb/huge.md": (200, "text/markdown", b"x" * (MAX_RUNBOOK + 10)),
}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # shiftdeck hangs up on oversized answers: the broken pipe is expected


class RunbookServer:
    """Serves PAGES on loopback; anything else is a 404."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append(self.path)
                status, kind, body = PAGES.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[RunbookServer]:
    running = RunbookServer()
    yield running
    running.close()


def alert(name: str = "QAWaveBackendDown", annotations: dict[str, str] | None = None,
          level: str = "P1", **labels: str):
    labels = {"namespace": "qawave", "service": "backend", "pod": "backend-7d9f8c6b5d-x2x4q",
              **labels}
    return replace(make_alert(name, **labels), annotations=annotations or {}, level=level,
                   value="0.083",
                   generator_url="http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1")


async def test_a_remote_runbook_is_fetched_stripped_templated_and_sanitised(
        server: RunbookServer) -> None:
    url = f"{server.url}/rb/backend.md"
    runbook = await load_runbook(alert(annotations={"runbook_url": url}), RunbookSettings())
    assert runbook.found and runbook.source == url and runbook.tried == (url,)
    assert runbook.title == "Remote backend runbook"
    assert runbook.markdown.startswith("# Backend down in qawave\n")
    assert not any(c in runbook.markdown for c in "\x1b\x07\u202e")
    assert runbook.commands == ("kubectl get pods -n {{ $labels.namespace }}",)  # not filled


async def test_a_404_falls_back_to_the_next_place(server: RunbookServer, tmp_path: Path) -> None:
    (tmp_path / "qa-wave-backend-down.md").write_text("# from a file\n")
    url = f"{server.url}/rb/missing.md"
    runbook = await load_runbook(alert(annotations={"runbook_url": url}),
                                 RunbookSettings(dirs=(tmp_path,)))
    assert runbook.found and runbook.markdown == "# from a file\n"
    assert runbook.source == str(tmp_path / "qa-wave-backend-down.md")
    assert runbook.tried[0] == f"{url}: HTTP 404 Not Found"
    assert runbook.tried[1] == f"{tmp_path / 'QAWaveBackendDown.md'}: no such file"
    assert server.requests == ["/rb/missing.md"]


async def test_a_relative_annotation_is_fetched_under_base_url(server: RunbookServer) -> None:
    runbook = await load_runbook(alert(annotations={"runbook": "plain.md"}),
                                 RunbookSettings(base_url=f"{server.url}/rb"))
    assert runbook.found and runbook.source == f"{server.url}/rb/plain.md"


@pytest.mark.parametrize("path, reason", [
    ("/rb/wiki", "a web page (text/html)"),
    ("/rb/logo.png", "not text (image/png)"),
    ("/rb/huge.md", "larger than 1 MiB"),
])
async def test_pages_that_are_not_runbooks_are_skipped_with_the_reason(
        server: RunbookServer, path: str, reason: str) -> None:
    runbook = await load_runbook(alert(annotations={"runbook_url": server.url + path}),
                                 RunbookSettings())
    assert not runbook.found
    assert runbook.tried[0].startswith(f"{server.url}{path}: {reason}")


async def test_an_unreachable_server_is_a_reason_too() -> None:
    runbook = await load_runbook(alert(annotations={"runbook_url": "http://127.0.0.1:9/x.md"}),
                                 RunbookSettings())
    assert not runbook.found and "unreachable" in runbook.tried[0]


async def test_a_map_entry_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "shared.md").write_text("---\ntitle: Shared\n---\nshared\n")
    runbook = await load_runbook(alert(), RunbookSettings(dirs=(tmp_path,),
                                                          map={"QAWaveBackendDown": "shared.md"}))
    assert runbook.found and runbook.title == "Shared" and runbook.markdown == "shared\n"


async def test_nothing_found_gives_the_level_checklist_and_every_place_tried(
        tmp_path: Path) -> None:
    runbook = await load_runbook(alert("HighErrorRate", level="P2"),
                                 RunbookSettings(dirs=(tmp_path,)))
    assert not runbook.found and runbook.source == ""
    assert len(runbook.tried) == 4 and all(t.endswith(": no such file") for t in runbook.tried)
    assert "the P2 checklist" in runbook.markdown
    assert "`" + runbook.tried[0] + "`" in runbook.markdown
    assert "kubectl get pods -n {{ $labels.namespace }} -o wide" in runbook.commands
    assert not parse_command(runbook.commands[0], alert()).refused


async def test_a_binary_file_is_not_a_runbook(tmp_path: Path) -> None:
    (tmp_path / "QAWaveBackendDown.md").write_bytes(b"\x00\x01binary")
    runbook = await load_runbook(alert(), RunbookSettings(dirs=(tmp_path,)))
    assert runbook.tried[0].endswith("not text (binary data)")


# -- the example runbooks --------------------------------------------------------- #

EXAMPLE_ALERTS = {
    "QAWaveBackendDown": {},
    "QAWaveBackendHighErrorRate": {},
    "PostgreSQLDown": {"pod": "postgresql-0", "service": "postgresql"},
    "DatabaseConnectionPoolExhausted": {"namespace": "mahavishnu", "pod": "mahavishnu-db-0"},
    "HighMemoryUsage": {"namespace": "clipper", "service": "api", "container": "api"},
    "TaskQueueBackedUp": {"namespace": "mahavishnu", "service": "worker"},
    "WebhookVerificationFailures": {"namespace": "payments", "service": "webhooks"},
    "SLOErrorBudgetBurn": {"namespace": "clipper", "service": "api"},
    "RedisDown": {"namespace": "clipper", "service": "redis", "pod": "redis-master-0"},
}


def test_every_example_runbook_has_front_matter() -> None:
    files = sorted(EXAMPLES.glob("*.md"))
    assert len(files) >= 9
    for file in files:
        text = file.read_text()
        assert text.startswith("---\n") and front_matter_title(text), file.name
        assert "\nowner: " in text and "\nseverity: " in text, file.name


@pytest.mark.parametrize("name", sorted(EXAMPLE_ALERTS))
async def test_the_example_runbooks_resolve_and_their_commands_parse(name: str) -> None:
    settings = RunbookSettings(
        dirs=(EXAMPLES,), map={"QAWaveBackendHighErrorRate": "backend-high-error-rate.md"})
    subject = alert(name, **EXAMPLE_ALERTS[name])
    runbook = await load_runbook(subject, settings)
    assert runbook.found, runbook.tried
    assert runbook.unknown_variables == ()
    assert "```promql" in runbook.markdown and "## Escalate" in runbook.markdown
    commands = [parse_command(line, subject) for line in runbook.commands]
    usable = [c for c in commands if not c.refused]
    assert usable and any(not c.dangerous for c in usable) and any(c.dangerous for c in usable)
    refused = [c.refused for c in commands if c.refused]
    if name == "RedisDown":
        assert refused == ["needs a shell (`&&`): copied to clipboard instead"]
    else:
        assert refused == []
