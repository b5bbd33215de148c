"""Every request has one deadline (connect to last byte) and a size cap; socks5 proxies work;
secrets in URLs are masked. Loopback stubs (tests/raw_server.py) drip, never end, or proxy;
the real Alertmanager answers through the SOCKS5 stub."""

from __future__ import annotations

import asyncio
import time

import pytest

from shiftdeck.config import ConfigError, load_config_text
from shiftdeck.domain.sizes import format_size, parse_size
from shiftdeck.domain.urls import mask_url, mask_urls_in
from shiftdeck.sources.alertmanager import AlertmanagerClient
from shiftdeck.sources.http import SourceError
from shiftdeck.sources.poll import poll_once
from shiftdeck.clock import SystemClock

from .support.raw_server import Drip, Endless, RawServer, Socks5Server, answer

pytestmark = pytest.mark.timeout(60)


def upstream(url: str, *, timeout: str = "3s", extra: str = ""):
    text = (f"alertmanagers:\n  - {{name: am0, url: '{url}', timeout: {timeout}"
            f"{', ' + extra if extra else ''}}}\n")
    return load_config_text(text, source="(test)").alertmanagers[0]


@pytest.mark.slow  # waits out a 2 s deadline on a real loopback server
async def test_a_dripped_answer_fails_at_the_deadline_not_after_the_last_byte():
    # 40 bytes at 1 byte/s: httpx's per-read timeout never fires; the overall deadline does.
    with RawServer(Drip(b"[" + b" " * 38 + b"]", interval=1.0)) as server:
        client = AlertmanagerClient(upstream(server.url, timeout="2s"))
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            await client.alerts()
        took = time.monotonic() - started
        await client.aclose()
    assert str(caught.value) == ("timed out after 2s (no complete answer within the "
                                 "deadline)")
    assert took < 6, f"gave up after {took:.1f}s"


@pytest.mark.slow  # waits out a 2 s deadline on a real loopback server
async def test_a_dripped_poll_is_a_failed_poll_within_the_deadline():
    """The header's badge comes from the poll's outcome: a poll that cannot finish fails."""
    with RawServer(Drip(b"[" + b" " * 38 + b"]", interval=1.0)) as server:
        client = AlertmanagerClient(upstream(server.url, timeout="2s"))
        started = time.monotonic()
        with pytest.raises(SourceError, match="timed out after 2s"):
            await poll_once(client, SystemClock())
        took = time.monotonic() - started
        await client.aclose()
    assert took < 6


async def test_an_endless_body_is_cut_at_the_cap_and_the_connection_closed():
    endless = Endless()
    with RawServer(endless) as server:
        client = AlertmanagerClient(upstream(server.url, extra="max_bytes: 1MiB"))
        with pytest.raises(SourceError) as caught:
            await client.alerts()
        await client.aclose()
        assert await asyncio.to_thread(endless.closed.wait, 10), "the stub never saw a hang-up"
    assert str(caught.value) == "answer larger than 1 MiB: cut"
    # What the stub got out before the hang-up: the cap plus what loopback socket buffers hold.
    assert endless.sent < (1 << 20) + (32 << 20), endless.sent


async def test_a_declared_length_over_the_cap_is_refused_before_reading():
    body = b"[" + b" " * 2000 + b"]"
    with RawServer(answer(200, {"Content-Type": "application/json"}, body)) as server:
        client = AlertmanagerClient(upstream(server.url, extra="max_bytes: 1000"))
        with pytest.raises(SourceError, match=r"^answer larger than 1000 bytes: refused$"):
            await client.alerts()
        await client.aclose()


async def test_the_default_caps_fit_100k_alerts():
    from shiftdeck.sources.prometheus import PrometheusClient
    from shiftdeck.sources.http import limits

    am = AlertmanagerClient(upstream("http://127.0.0.1:9"))
    prom = PrometheusClient(load_config_text(
        "prometheus: [{name: p, url: 'http://127.0.0.1:9'}]\n").prometheus[0])
    assert limits(am.client).max_bytes == 256 << 20 > 110_000_000
    assert limits(prom.client).max_bytes == 64 << 20
    assert limits(am.client).deadline == 3.0
    await am.aclose()
    await prom.aclose()


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_a_socks5_proxy_carries_the_requests(alertmanager, scheme):
    alertmanager.push_alerts([{"labels": {"alertname": "ThroughSocks"}}])
    alertmanager.wait_for_alerts(1)
    port = alertmanager.url.rsplit(":", 1)[1]
    with Socks5Server() as proxy:
        config = upstream(f"http://localhost:{port}",
                          extra=f"proxy: '{scheme}://127.0.0.1:{proxy.port}'")
        client = AlertmanagerClient(config)
        batch = await client.alerts()
        await client.aclose()
    assert [a.name for a in batch.alerts] == ["ThroughSocks"]
    host, asked_port = proxy.targets[0]
    assert asked_port == int(port)
    # socks5h leaves the name to the proxy; socks5 would have resolved it first.
    assert host == "localhost" if scheme == "socks5h" else host in ("localhost", "127.0.0.1")


def test_config_sizes_are_parsed_and_shown_masked():
    config = load_config_text(
        "alertmanagers: [{name: a, url: 'http://h:9093', max_bytes: 512KiB,"
        " proxy: 'socks5://u:pw@p:1080'}]\n"
        "schedules_ics: [{role: primary, url: 'https://h/f.ics', max_bytes: 2MiB}]\n")
    assert config.alertmanagers[0].max_bytes == 512 << 10
    assert config.schedules_ics[0].max_bytes == 2 << 20
    masked = config.masked()
    assert masked["alertmanagers"][0]["max_bytes"] == "512 KiB"
    assert masked["alertmanagers"][0]["proxy"] == "socks5://u:***@p:1080"
    with pytest.raises(ConfigError, match=r"max_bytes: not a size: 'lots'"):
        load_config_text("alertmanagers: [{name: a, url: 'http://h:9093', max_bytes: lots}]\n")


def test_sizes_read_like_people_write_them():
    assert parse_size("256MiB") == 256 << 20
    assert parse_size("512 KiB") == 512 << 10
    assert parse_size("16MB") == 16_000_000
    assert parse_size("4096") == 4096
    assert format_size(256 << 20) == "256 MiB" and format_size(1500) == "1500 bytes"
    for bad in ("0", "-1", "1.5MiB", "12 parsecs", "99999999999999GiB"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_secrets_in_urls_are_masked():
    assert mask_url("https://ops:hunter2@am.example:9093/api?token=abc&x=1") == (
        "https://ops:***@am.example:9093/api?token=***&x=1")
    assert mask_url("https://h/runbook.md?api_key=k&apikey=k2&sig=s&page=2") == (
        "https://h/runbook.md?api_key=***&apikey=***&sig=***&page=2")
    assert mask_url("https://h/plain/path") == "https://h/plain/path"
    assert mask_urls_in("GET 'https://h/x?access_token=t' failed") == (
        "GET 'https://h/x?access_token=***' failed")



async def test_a_large_answer_is_held_once_while_it_is_read():
    """A 100k-alert answer is ~84 MB: read into a bytearray and then copied to bytes, it was
    held twice at the end of the read (the poller process's peak)."""
    import tracemalloc

    from shiftdeck.sources.http import get_answer

    body = b"[" + b" " * (16 << 20) + b"]"
    sent = (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
            "Content-Type: application/json\r\n\r\n").encode() + body

    def handle(conn, head):
        conn.sendall(sent)

    with RawServer(handle) as server:
        client = AlertmanagerClient(upstream(server.url, timeout="30s"))
        tracemalloc.start()
        try:
            answer = await get_answer(client.client, "/api/v2/alerts")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await client.aclose()
    assert answer.content == body
    assert peak < 1.5 * len(body), f"peak {peak / len(body):.2f} times the answer"
