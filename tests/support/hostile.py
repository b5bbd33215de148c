"""A corpus of hostile strings, upstreams that put them everywhere, and a check of the bytes a
terminal received.

Each corpus entry is (text, raw): `raw` is the byte sequence that must never reach the
terminal if `text` was drawn safely (the control sequence it smuggles in), or None when the
string is hostile in another way (markup, widths, shell syntax) and other tests judge it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shiftdeck.demo.kube import KubeApiServer, deployment, event, pod, replicaset
from shiftdeck.demo.server import LoopbackServer, Request, Response, json_response, not_found

MARKER_NAME = "pwned-marker"
"""A file that exists only if some value was executed by a shell."""


def corpus(marker: Path) -> list[tuple[str, bytes | None]]:
    touch = f"touch {marker}"
    return [
        # Textual / Rich markup
        ("[/", None),
        ("[/]", None),
        ("[@click=app.quit]x[/]", None),
        ("[link=file:///etc/passwd]x", None),
        ("[bold red]loud[/bold red] [reverse]rev", None),
        ("$variable ${x} {{ $labels.pod }}", None),
        # CSI, OSC, DCS, C1 and other controls
        ("title\x1b]0;pwned-title\x07", b"\x1b]0;pwned"),
        ("\x1b[2J\x1b[Hclear-screen", b"\x1b[Hclear"),
        ("\x1b[31mred-csi\x1b[0m", b"\x1b[31mred-csi"),
        ("clip\x1b]52;c;cHduZWQ=\x07", b"\x1b]52;c;cHduZWQ="),
        ("\x1b]8;;file:///etc/passwd\x1b\\link\x1b]8;;\x1b\\", b"\x1b]8;;file:"),
        ("dcs\x1bP+q544e\x1b\\", b"\x1bP+q544e"),
        ("report\x1b[6n-dsr", b"\x1b[6n-dsr"),
        ("alt\x1b[?1049l-screen", b"\x1b[?1049l-screen"),
        ("c1-csi\x9b31m", "\x9b31m".encode()),
        ("c1-osc\x9d0;c1-title\x9c", "\x9d0;c1".encode()),
        ("c1-dcs\x90qpayload\x9c", "\x90qpayload".encode()),
        ("bell\x07\x07\x07ring", b"bell\x07"),
        ("nul\x00byte", b"nul\x00byte"),
        ("carriage\roverwrite", b"carriage\roverwrite"),
        ("back\x08\x08space", b"back\x08"),
        ("del\x7fchar", b"del\x7fchar"),
        ("vt\x0bff\x0cso\x0e", b"vt\x0b"),
        # reordering, invisible and wide characters
        ("\u202eevil-rtl\u202c", "\u202e".encode()),
        ("\u2066isolate\u2069 \u200fmark", "\u2066".encode()),
        ("zero\u200bwidth\u200djoiner\ufeffbom", None),
        ("双宽字符テスト", None),
        ("e\u0301\u0301\u0301 combining", None),
        ("\U0001F469\u200d\U0001F469\u200d\U0001F467 family", None),
        # shell metacharacters and option-like values
        (f"$({touch})", None),
        (f"`{touch}`", None),
        (f"x; {touch}", None),
        (f"a && {touch} | tee /dev/null > /tmp/x", None),
        ("--kubeconfig=/etc/x", None),
        ("-rf", None),
        ("../../../../etc/passwd", None),
        # size
        ("A" * 100_000, None),
    ]


def texts(marker: Path) -> list[str]:
    return [text for text, _ in corpus(marker)]


# -- what a terminal received ------------------------------------------------------------------

_SEQUENCE = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI
    rb"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, ended by BEL or ST
    rb"|P[^\x1b]*\x1b\\"  # DCS
    rb"|[ -~])", re.S)
_CSI_ALLOWED = re.compile(rb"\x1b\[[0-9;:?<>]*(?:\$p|[mHhlutJK])\Z")
_OSC_ALLOWED = (b"\x1b]22;", b"\x1b]52;", b"\x1b]9;", b"\x1b]777;")
"""Pointer shape (Textual), clipboard (OSC 52), desktop notifications (OSC 9 / 777)."""
_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def terminal_violations(output: bytes, corpus_entries: list[tuple[str, bytes | None]]) -> list[str]:
    """Everything in `output` a safe shiftdeck would not have written, in words."""
    found = [f"corpus sequence {raw!r} reached the terminal"
             for _, raw in corpus_entries if raw is not None and raw in output]
    for match in _SEQUENCE.finditer(output):
        seq = match.group()
        if seq[1:2] == b"[" and not _CSI_ALLOWED.match(seq):
            found.append(f"unexpected CSI {seq[:40]!r}")
        elif seq[1:2] == b"]" and not seq.startswith(_OSC_ALLOWED):
            found.append(f"unexpected OSC {seq[:40]!r}")
        elif seq[1:2] == b"P":
            found.append(f"unexpected DCS {seq[:40]!r}")
    text = _SEQUENCE.sub(b"", output)
    stray = sorted({c for c in text if (c < 32 and c not in b"\r\n") or c == 127})
    found += [f"control byte {c:#04x} outside any escape sequence" for c in stray]
    found += [f"C1 control {m.group()!r} in the text" for m in _C1.finditer(text)][:3]
    if "\u202e".encode() in text or "\u2066".encode() in text:
        found.append("bidi override/isolate in the text")
    return found


# -- upstreams full of it ----------------------------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)
NAMESPACE = "qawave"
GOOD_POD = "backend-5d8f7c9b6-x2x4q"


def _rfc3339(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hostile_alerts(strings: list[str]) -> list[dict]:
    """One alert per string, the string in its name, label names and values and annotations;
    and `HostileBackend`, whose pod exists (diagnostics) and whose runbook is hostile.md."""
    substitution = next(text for text in strings if text.startswith("$("))
    alerts = [_alert(0, "HostileBackend", {"namespace": NAMESPACE, "pod": GOOD_POD,
                                           "service": "backend", "note": substitution,
                                           "victim": "--kubeconfig=/etc/x"},
                     {"summary": strings[2], "runbook_url": "hostile.md"}, minutes=90)]
    for i, text in enumerate(strings, start=1):
        labels = {"namespace": text, "pod": text, "service": text, text or "empty": text}
        annotations = {"summary": text, "description": text * 3, "runbook_url": text}
        alerts.append(_alert(i, f"H{i:02d}{text}", labels, annotations, minutes=60 - i))
    return alerts


def _alert(number: int, name: str, labels: dict, annotations: dict, minutes: int) -> dict:
    return {"labels": {"alertname": name, "severity": "critical", **labels},
            "annotations": annotations, "startsAt": _rfc3339(NOW - timedelta(minutes=minutes)),
            "endsAt": _rfc3339(NOW + timedelta(hours=1)), "updatedAt": _rfc3339(NOW),
            "generatorURL": "http://prometheus.invalid/graph?g0.expr=up%3D%3D0",
            "fingerprint": f"{number:016x}", "receivers": [{"name": name[:80]}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}


def hostile_silences(strings: list[str]) -> list[dict]:
    silences = []
    for i, text in enumerate(strings[:30]):
        silences.append({
            "id": f"0000-silence-{i:02d}", "createdBy": text,
            "comment": ("ACK! " if i % 3 == 0 else "") + text,
            "matchers": [{"name": "alertname", "value": f"H{i:02d}{text}", "isRegex": False,
                          "isEqual": True}],
            "startsAt": _rfc3339(NOW - timedelta(minutes=10)),
            "endsAt": _rfc3339(NOW + timedelta(minutes=20 + i)), "updatedAt": _rfc3339(NOW),
            "status": {"state": "active"}})
    return silences


def hostile_rules(strings: list[str]) -> dict:
    rules = [{"type": "alerting", "name": f"H{i:02d}{text}", "query": text, "state": "firing"}
             for i, text in enumerate(strings)]
    return {"groups": [{"name": strings[0], "file": strings[1], "rules": rules}]}


def hostile_pending(strings: list[str]) -> dict:
    return {"alerts": [{"labels": {"alertname": f"P{i:02d}{text}", "severity": "warning",
                                   text or "x": text},
                        "annotations": {"summary": text}, "state": "pending",
                        "activeAt": _rfc3339(NOW - timedelta(minutes=1)), "value": text[:64]}
                       for i, text in enumerate(strings)]}


class HostileUpstreams:
    """One loopback server answering as Alertmanager v2 and Prometheus v1, corpus everywhere."""

    def __init__(self, strings: list[str]) -> None:
        self.strings = strings
        self.server = LoopbackServer("hostile")
        self.answers = {
            "/api/v2/alerts": hostile_alerts(strings),
            "/api/v2/silences": hostile_silences(strings),
            "/api/v2/status": {"versionInfo": {"version": strings[6]},
                               "cluster": {"name": strings[7], "status": "ready", "peers": []}},
            "/api/v1/alerts": {"status": "success", "data": hostile_pending(strings)},
            "/api/v1/rules": {"status": "success", "data": hostile_rules(strings)},
            "/api/v1/status/buildinfo": {"status": "success", "data": {"version": strings[8]}},
            "/api/v1/query_range": {"status": "success", "data": {
                "resultType": "matrix", "result": [{
                    "metric": {"__name__": strings[9], strings[10]: strings[11]},
                    "values": [[NOW.timestamp() - 60 * k, "1"] for k in range(60, 0, -1)]}]}},
        }

    @property
    def url(self) -> str:
        return self.server.url

    def __call__(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/api/v2/silences":
            return json_response({"silenceID": self.strings[6]})
        answer = self.answers.get(request.path)
        return not_found() if answer is None else json_response(answer)

    def __enter__(self) -> HostileUpstreams:
        self.server.start(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@contextmanager
def hostile_cluster(strings: list[str], kubeconfig: Path) -> Iterator[KubeApiServer]:
    """A Kubernetes API whose pods, events, logs and images carry the corpus."""
    with KubeApiServer() as server:
        backend = deployment("backend", NAMESPACE, revision=2, image=strings[6][:200])
        rs = replicaset("backend-5d8f7c9b6", NAMESPACE, deployment=backend, revision=2,
                        image=strings[7][:200], replicas=1, change_cause=strings[8])
        labels = rs["spec"]["selector"]["matchLabels"]
        server.add(backend, rs, pod(GOOD_POD, NAMESPACE, labels=labels, phase="Running",
                                    ready=False, restarts=3, node=strings[8][:60],
                                    waiting_reason=strings[9][:60]))
        for i, text in enumerate(strings):
            server.add(event(NAMESPACE, "Pod", GOOD_POD, reason=text[:200], message=text,
                             type="Warning" if i % 2 else "Normal", host=text[:100]))
        server.set_logs(NAMESPACE, GOOD_POD, strings)
        server.kubeconfig(kubeconfig, contexts=("prod",))
        yield server


def runbook_markdown(strings: list[str]) -> str:
    """Every string but the huge one and NUL (a file with NUL is binary, and refused as such)."""
    prose = "\n\n".join(f"- {text}" for text in strings if len(text) < 1000 and "\0" not in text)
    return (f"# {strings[2]}\n\n{prose}\n\n[passwd](file:///etc/passwd) "
            f"<script>alert(1)</script>\n\n"
            "```bash\n"
            "echo {{ $labels.note }}\n"
            "kubectl logs -n {{ $labels.namespace }} {{ $labels.victim }}\n"
            "ls {{ $labels.note }}; echo done\n"
            "```\n")
