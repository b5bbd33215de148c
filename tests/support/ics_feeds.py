"""ICS feeds in the shapes PagerDuty exports, and a loopback server handing one out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from shiftdeck.domain.roster import Person

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
PEOPLE = {
    "alice": Person("alice", "Alice Ng", "@alice", email="alice@example.com"),
    "bob": Person("bob", "Bob Okafor", "@bob", email="bob@example.com"),
    "carol": Person("carol", "Carol Diaz", "@carol"),
}


def ics(*events: str, extra: str = "") -> str:
    body = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + extra + "".join(events)
    return (body + "END:VCALENDAR\n").replace("\n", "\r\n")


def pagerduty_event(uid: str, start: str, end: str, name: str, email: str) -> str:
    """PagerDuty's schedule feed: UTC times, 'On Call - <name> - <schedule>', one ATTENDEE."""
    return (f"BEGIN:VEVENT\nUID:{uid}\nDTSTART:{start}\nDTEND:{end}\n"
            f"SUMMARY:On Call - {name} - Primary\nATTENDEE:mailto:{email}\n"
            "URL:https://acme.pagerduty.com/schedules#PABC123\nEND:VEVENT\n")


PAGERDUTY = ics(
    pagerduty_event("pd-1", "20261116T080000Z", "20261123T080000Z", "Alice Ng",
                    "alice@example.com"),
    pagerduty_event("pd-2", "20261123T080000Z", "20261130T080000Z", "Robert O.",
                    "bob@example.com"),
    extra="METHOD:PUBLISH\nX-WR-CALNAME:On Call Schedule for Primary\n",
)


class FeedServer:
    """A loopback HTTP server answering every GET with `status` and `body`."""

    def __init__(self) -> None:
        self.status, self.body, self.requests = 200, PAGERDUTY.encode(), []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append((self.path, dict(self.headers)))
                self.send_response(server.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/private/t0ken/feed/P1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
