"""Issue 11, part 1, at the I/O edge: runbook files stay in their dir after symlinks, headers
never follow a redirect to another origin, URL secrets are masked, alert-supplied runbooks are
marked untrusted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from shiftdeck.domain.runbooks import RunbookSettings
from shiftdeck.sources.runbooks import load_runbook

from .support.factories import make_alert
from .support.recorders import Recorder


@pytest.fixture
def two_origins() -> Iterator[tuple[Recorder, Recorder]]:
    target = Recorder()
    first = Recorder(redirect_to=f"{target.url}/rb.md")
    yield first, target
    first.close()
    target.close()


def alert(annotations: dict[str, str] | None = None):
    return replace(make_alert("QAWaveBackendDown", namespace="qawave"),
                   annotations=annotations or {})


@pytest.mark.timeout(20)
async def test_configured_headers_never_follow_a_redirect_to_another_origin(two_origins) -> None:
    first, target = two_origins
    settings = RunbookSettings(map={"QAWaveBackendDown": f"{first.url}/rb.md"})
    async with httpx.AsyncClient(headers={"X-Api-Key": "s3cret"},
                                 auth=("alice", "pw")) as client:
        runbook = await load_runbook(alert(), settings, client)
    assert runbook.found and "kubectl get pods" in runbook.template
    assert first.headers[0]["x-api-key"] == "s3cret" and "authorization" in first.headers[0]
    (seen,) = target.headers
    assert "x-api-key" not in seen and "authorization" not in seen
    assert seen["user-agent"] == "shiftdeck"


@pytest.mark.timeout(20)
async def test_headers_do_follow_a_redirect_within_the_origin() -> None:
    server = Recorder()
    server.redirect_to = "/moved.md"
    try:
        settings = RunbookSettings(map={"QAWaveBackendDown": f"{server.url}/rb.md"})
        async with httpx.AsyncClient(headers={"X-Api-Key": "s3cret"}) as client:
            task = asyncio.create_task(load_runbook(alert(), settings, client))
            while len(server.headers) < 2:
                await asyncio.sleep(0.01)
            server.redirect_to = ""
            task.cancel()
        assert all(h.get("x-api-key") == "s3cret" for h in server.headers[:2])
    finally:
        server.close()


async def test_a_symlink_inside_a_runbook_dir_cannot_escape_it(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("# secret notes\n")
    (books / "QAWaveBackendDown.md").symlink_to(outside)
    (books / "qa-wave-backend-down.md").symlink_to("/etc/passwd")
    runbook = await load_runbook(alert(), RunbookSettings(dirs=(books,)))
    assert not runbook.found
    assert "secret notes" not in runbook.markdown and "root:" not in runbook.markdown
    assert f"{books}/QAWaveBackendDown.md: ignored: it leads outside {books} (a symlink)" \
        in runbook.tried


async def test_a_symlink_that_stays_inside_is_followed(tmp_path: Path) -> None:
    books = tmp_path / "books"
    (books / "shared").mkdir(parents=True)
    (books / "shared" / "backend.md").write_text("# inside\n")
    (books / "QAWaveBackendDown.md").symlink_to(books / "shared" / "backend.md")
    runbook = await load_runbook(alert(), RunbookSettings(dirs=(books,)))
    assert runbook.found and "# inside" in runbook.markdown


async def test_a_token_in_a_runbook_url_is_masked_in_the_source_and_the_tried_list(
        two_origins) -> None:
    _first, target = two_origins
    url = f"{target.url}/rb.md?token=hunter2"
    missing = "http://user:pw@127.0.0.1:9/x.md?api_key=k3y"
    settings = RunbookSettings(map={"QAWaveBackendDown": url})
    runbook = await load_runbook(alert({"runbook_url": missing}), settings)
    assert runbook.found
    shown = runbook.source + " ".join(runbook.tried) + runbook.markdown
    assert "hunter2" not in shown and "k3y" not in shown and ":pw@" not in shown
    assert runbook.source == f"{target.url}/rb.md?token=***"


async def test_a_runbook_the_alert_points_at_is_untrusted(two_origins) -> None:
    _first, target = two_origins
    runbook = await load_runbook(alert({"runbook_url": f"{target.url}/rb.md"}),
                                 RunbookSettings())
    assert runbook.found and runbook.untrusted.startswith(
        "this runbook came from the alert's runbook_url (127.0.0.1)")
    trusted = await load_runbook(alert({"runbook_url": f"{target.url}/rb.md"}),
                                 RunbookSettings(trusted_origins=(target.url,)))
    assert trusted.untrusted == ""


@pytest.mark.timeout(60)
async def test_a_1_mib_runbook_of_short_commands_loads_whole(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    lines = "\n".join(f"echo {{{{ $labels.namespace }}}} {n}" for n in range(60_000))
    text = "# big\n\n```bash\n" + lines
    (books / "QAWaveBackendDown.md").write_text(text[: (1 << 20) - 10] + "\n```\n")
    runbook = await load_runbook(alert(), RunbookSettings(dirs=(books,)))
    assert runbook.found and len(runbook.commands) > 20_000
