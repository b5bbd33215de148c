"""Kubernetes diagnostics: scoping rules, the real `kubernetes` client and Debian's kubectl
against the loopback Kubernetes API (shiftdeck.demo.kube) through generated kubeconfigs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from shiftdeck.clock import FrozenClock
from shiftdeck.demo import DemoEnvironment
from shiftdeck.demo.kube import demo_cluster, human_duration, label_selector, pod
from shiftdeck.domain.kube import (
    KubeError, KubernetesSettings, Scope, deployment_of_pod, is_dns1123_label, is_dns1123_subdomain,
    is_label_key, is_label_value, scope_for)
from shiftdeck.sources.kube import KubeClient

from .support.factories import NOW, make_alert
from .support.kube_server import CRASHING, NS, RESTARTED, FaultyKubeServer, cluster, kubectl, unreachable_kubeconfig

HOSTILE = ["x; touch /tmp/pwned", "$(id)", "--kubeconfig=/etc/x", "`id`", "a b", "Backend\n", "x/../y"]


# --------------------------------------------------------------------------- #
# scope_for: pure
# --------------------------------------------------------------------------- #


def test_scope_from_labels_and_selectors() -> None:
    settings = KubernetesSettings()
    scope = scope_for(make_alert(namespace=NS, pod=CRASHING, service="backend"), settings)
    assert scope == Scope("", NS, CRASHING, "backend", "app.kubernetes.io/name=backend")
    # an explicit deployment label wins; StatefulSet pods name no deployment
    assert scope_for(make_alert(namespace=NS, pod=CRASHING, deployment="api"), settings).deployment == "api"
    assert scope_for(make_alert(namespace=NS, pod="postgresql-0"), settings).deployment == ""
    # the first configured alert label present selects
    ordered = KubernetesSettings(selectors={"app": "app", "service": "app.kubernetes.io/name"})
    assert scope_for(make_alert(namespace=NS, service="b", app="a"), ordered).selector == "app=a"
    assert scope_for(make_alert(namespace=NS, service="b"), ordered).selector == "app.kubernetes.io/name=b"
    assert "no namespace" in scope_for(make_alert(pod=CRASHING), settings).refused


def test_cluster_label_maps_to_a_context() -> None:
    mapped = KubernetesSettings(contexts={"eu-prod": "prod", "eu-staging": "staging"})
    assert scope_for(make_alert(namespace=NS, cluster="eu-prod"), mapped).context == "prod"
    assert scope_for(make_alert(namespace=NS), mapped).context == ""  # no label: current context
    unmapped = scope_for(make_alert(namespace=NS, cluster="us-east"), mapped)
    assert unmapped.refused == "cluster 'us-east' has no kube context in kubernetes.contexts"
    # nothing configured: every alert is about the current context
    assert scope_for(make_alert(namespace=NS, cluster="us-east"), KubernetesSettings()).context == ""


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("label", ["namespace", "pod", "deployment", "service"])
def test_hostile_label_values_are_refused(label: str, value: str) -> None:
    labels = {"namespace": NS, "pod": CRASHING, label: value}
    scope = scope_for(make_alert(**labels), KubernetesSettings())
    assert scope.refused == (
        f"label value {value!r} is not a valid Kubernetes name (the alert's {label} label)")
    assert value not in (scope.namespace, scope.pod, scope.deployment) and value not in scope.selector


def test_refused_scope_asks_nothing(tmp_path: Path) -> None:
    with cluster(tmp_path) as (server, kubeconfig):
        client = KubeClient(KubernetesSettings(kubeconfig=str(kubeconfig)))
        scope = scope_for(make_alert(namespace=NS, pod="x; touch /tmp/pwned"), KubernetesSettings())
        result = client.diagnose(scope, NOW)
        assert result.errors == (scope.refused,) and not result.pods
        with pytest.raises(KubeError, match="not a valid Kubernetes name"):
            client.logs(scope, CRASHING)
        with pytest.raises(KubeError, match="not a valid pod name"):
            client.logs(Scope("", NS), "--kubeconfig=/etc/x")
        client.close()
        assert server.requests == []
    assert not Path("/tmp/pwned").exists()


def test_name_rules() -> None:
    assert is_dns1123_label("qawave") and not is_dns1123_label("QAwave") and not is_dns1123_label("a" * 64)
    assert is_dns1123_subdomain("backend.v2-x") and not is_dns1123_subdomain("-x")
    assert is_label_value("") and is_label_value("Backend_v2.1") and not is_label_value("a b")
    assert is_label_key("app.kubernetes.io/name") and is_label_key("app") and not is_label_key("a/b/c")
    assert deployment_of_pod("profile-services-ngq2cd9wfp-7nsxs") == "profile-services"
    assert deployment_of_pod("redis-master-0") == "" and deployment_of_pod("x-aeiou01-abcde") == ""


# --------------------------------------------------------------------------- #
# The real client against the loopback API
# --------------------------------------------------------------------------- #


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[FaultyKubeServer, Path, KubeClient]]:
    with cluster(tmp_path) as (server, kubeconfig):
        client = KubeClient(KubernetesSettings(kubeconfig=str(kubeconfig), timeout=timedelta(seconds=5)))
        yield server, kubeconfig, client
        client.close()


SCOPE = Scope("", NS, CRASHING, "backend", "app.kubernetes.io/name=backend")


@pytest.mark.slow
def test_pods_events_and_rollout_history(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    server, _, client = kube
    result = client.diagnose(SCOPE, NOW)
    assert result.errors == () and result.fetched_at == NOW and result.deployment == "backend"
    crashing, restarted = result.pods  # the alert's pod first; frontend and postgresql not selected
    assert (crashing.name, crashing.phase, crashing.ready, crashing.restarts, crashing.node) == (
        CRASHING, "Running", "0/1", 7, "node-a")
    assert (crashing.reason, crashing.last_termination, crashing.age) == (
        "CrashLoopBackOff", "OOMKilled", timedelta(hours=2))
    assert (restarted.ready, restarted.reason, restarted.last_termination, restarted.containers) == (
        "2/2", "Error", "Error", ("backend", "istio-proxy"))

    types = [(e.type, e.object, e.reason) for e in result.events]
    assert types == [("Warning", f"Pod/{CRASHING}", "BackOff"),        # 1m ago
                     ("Warning", f"Pod/{RESTARTED}", "Unhealthy"),     # 10m ago
                     ("Normal", f"Pod/{CRASHING}", "Pulled"),          # 30s ago, but Normal
                     ("Normal", "Deployment/backend", "ScalingReplicaSet")]
    assert result.events[0].count == 30 and result.events[0].last_seen == NOW - timedelta(minutes=1)
    hostile = result.events[1].message
    assert "\x1b" not in hostile and "\x07" not in hostile and "\u202e" not in hostile

    assert [(r.revision, r.replicaset, r.images, r.replicas) for r in result.revisions] == [
        (3, "backend-7d9f8c6b5d", ("registry.test/backend:v2.14.0",), 2),
        (2, "backend-6f8b9c7d5f", ("registry.test/backend:v2.13.1",), 0),
        (1, "backend-5c6b7d8f9c", ("registry.test/backend:v2.12.0",), 0)]
    assert result.revisions[1].created == NOW - timedelta(days=7)
    # every list is scoped: namespace, selector or field selector, limit
    lists = [r for r in server.requests if r.path.endswith(("/pods", "/events", "/replicasets"))]
    assert lists and all(r.path.startswith(f"/api/v1/namespaces/{NS}/") or f"/namespaces/{NS}/" in r.path
                         for r in lists)
    assert all(r.query.get("limit") and (r.query.get("labelSelector") or r.query.get("fieldSelector"))
               for r in lists)


def test_deployment_found_from_the_pods_owners(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    _, _, client = kube
    result = client.diagnose(Scope("", NS, selector="app.kubernetes.io/name=backend"), NOW)
    assert result.deployment == "backend" and [r.revision for r in result.revisions] == [3, 2, 1]
    whole = client.diagnose(Scope("", NS), NOW)  # no pod, no selector: the namespace, limited
    assert {p.name for p in whole.pods} >= {CRASHING, "postgresql-0", "frontend-6f7b9d5c4-tn2vb"}


def test_a_vanished_pod_falls_back_to_its_deployment(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    _, _, client = kube
    result = client.diagnose(Scope("", NS, pod="backend-7d9f8c6b5d-gone1", deployment="backend"), NOW)
    assert result.errors == (f"pod backend-7d9f8c6b5d-gone1 no longer exists in {NS}",)
    assert {p.name for p in result.pods} == {CRASHING, RESTARTED}


def test_logs_current_previous_and_tail(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    server, _, client = kube
    lines = client.logs(SCOPE, CRASHING, tail=3)
    assert lines == ["line 10", "ERROR out of memory while loading cache", "INFO coloured link"]
    assert client.logs(SCOPE, CRASHING, previous=True, tail=2) == ["previous 4", "previous 5"]
    assert len(client.logs(SCOPE, CRASHING)) == 12
    assert client.logs(SCOPE, RESTARTED, container="istio-proxy") == ["sidecar ok"]
    assert client.logs(SCOPE, RESTARTED) == ["backend ok"]  # the first container, as kubectl picks
    server.add(pod("sidecar-first", NS, containers=("envoy", "app"),
                   annotations={"kubectl.kubernetes.io/default-container": "app"}))
    server.set_logs(NS, "sidecar-first", ["app ok"], container="app")
    assert client.logs(SCOPE, "sidecar-first") == ["app ok"]
    server.forbid("get", "pods", NS)  # the container cannot be looked up: the server decides
    with pytest.raises(KubeError, match=r"a container name must be specified .* \[backend istio-proxy\]"):
        client.logs(SCOPE, RESTARTED)
    server.clear_faults()
    with pytest.raises(KubeError, match='^previous terminated container "app" in pod "frontend-'):
        client.logs(SCOPE, "frontend-6f7b9d5c4-tn2vb", previous=True)
    with pytest.raises(KubeError, match="not found"):
        client.logs(SCOPE, "backend-7d9f8c6b5d-gone1")
    log_requests = [r for r in server.requests if r.path.endswith("/log")]
    assert log_requests[0].query["tailLines"] == "3"


def test_long_log_lines_are_capped_and_clean(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    server, _, client = kube
    server.set_logs(NS, CRASHING, ["x" * 100_000, "café ✓ \u202eevil", "tab\there\rcr\x1b[2Jz"])
    long, unicode, tabbed = client.logs(SCOPE, CRASHING)
    assert len(long) == 4097 and long == "x" * 4096 + "…"
    assert unicode == "café ✓ evil" and tabbed == "tab herecrz"


def test_a_403_on_pods_is_a_sentence_and_events_still_load(
        kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    server, _, client = kube
    server.forbid("list", "pods", NS)
    result = client.diagnose(SCOPE, NOW)
    assert result.errors == ("forbidden: cannot list pods in qawave",)
    assert result.pods == ()
    assert {e.object for e in result.events} == {f"Pod/{CRASHING}", "Deployment/backend"}
    assert [r.revision for r in result.revisions] == [3, 2, 1]
    server.forbid("get", "pods/log", NS)
    with pytest.raises(KubeError, match=r"^forbidden: cannot get pods/log in qawave$"):
        client.logs(SCOPE, CRASHING)


def test_server_errors_are_reported_per_part(kube: tuple[FaultyKubeServer, Path, KubeClient]) -> None:
    server, _, client = kube
    server.fail("events", 500)
    result = client.diagnose(SCOPE, NOW)
    assert result.errors == ("events: HTTP 500: Internal error occurred: injected failure for events",)
    assert len(result.pods) == 2 and result.events == () and len(result.revisions) == 3


def test_an_unreachable_cluster(tmp_path: Path) -> None:
    client = KubeClient(KubernetesSettings(kubeconfig=str(unreachable_kubeconfig(tmp_path))))
    started = time.monotonic()
    result = client.diagnose(SCOPE, NOW)
    (error,) = result.errors
    assert error.startswith("unreachable: 127.0.0.1:") and error.endswith(": connection refused")
    assert time.monotonic() - started < 2 and result.pods == ()
    with pytest.raises(KubeError, match="^unreachable: .*connection refused"):
        client.logs(SCOPE, CRASHING)
    client.close()


@pytest.mark.slow
def test_a_timeout_stops_asking(kube: tuple[FaultyKubeServer, Path, KubeClient], tmp_path: Path) -> None:
    server, kubeconfig, _ = kube
    client = KubeClient(KubernetesSettings(kubeconfig=str(kubeconfig), timeout=timedelta(seconds=0.5)))
    server.delay(5, "pods")
    started = time.monotonic()
    result = client.diagnose(SCOPE, NOW)
    assert result.errors == ("timed out after 0.5s",)
    assert time.monotonic() - started < 2  # one timeout, no retries, no further calls
    assert [r.path.rsplit("/", 1)[-1] for r in server.requests] == ["backend", "pods"]
    with pytest.raises(KubeError, match=r"^timed out after 0.5s$"):
        client.logs(SCOPE, CRASHING)
    client.close()


def test_bad_kubeconfigs_are_sentences(tmp_path: Path) -> None:
    missing = KubeClient(KubernetesSettings(kubeconfig=str(tmp_path / "nope")))
    assert missing.diagnose(SCOPE, NOW).errors == (f"kubeconfig: {tmp_path / 'nope'} does not exist",)
    with cluster(tmp_path) as (_, kubeconfig):
        client = KubeClient(KubernetesSettings(kubeconfig=str(kubeconfig)))
        result = client.diagnose(Scope("nowhere", NS), NOW)
        assert result.errors == (f"kubeconfig: no context 'nowhere' in {kubeconfig}",)
        bad_token = tmp_path / "bad-token"
        bad_token.write_text(kubeconfig.read_text().replace("shiftdeck-demo.", "forged."))
        forged = KubeClient(KubernetesSettings(kubeconfig=str(bad_token)))
        (error,) = forged.diagnose(SCOPE, NOW).errors
        assert error.startswith("unauthorized: 127.0.0.1:")


def test_contexts_are_mapped_and_kubeconfig_untouched(tmp_path: Path) -> None:
    with cluster(tmp_path, current="staging") as (server, kubeconfig):
        before = kubeconfig.read_bytes()
        settings = KubernetesSettings(kubeconfig=str(kubeconfig), contexts={"eu-prod": "prod"})
        client = KubeClient(settings)
        client.diagnose(scope_for(make_alert(namespace=NS, pod=CRASHING, cluster="eu-prod"), settings), NOW)
        assert {r.context for r in server.requests} == {"prod"}
        client.diagnose(scope_for(make_alert(namespace=NS, pod=CRASHING), settings), NOW)
        assert server.requests[-1].context == "staging"  # no cluster label: the current context
        client.close()
        assert kubeconfig.read_bytes() == before  # persist_config=False


def test_every_call_has_a_request_timeout(kube: tuple[FaultyKubeServer, Path, KubeClient],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.client import rest

    _, _, client = kube
    timeouts = []
    original = rest.RESTClientObject.request

    def spy(self: rest.RESTClientObject, *args: object, **kwargs: object) -> object:
        timeouts.append(kwargs.get("_request_timeout"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(rest.RESTClientObject, "request", spy)
    client.diagnose(SCOPE, NOW)
    client.logs(SCOPE, CRASHING)
    assert len(timeouts) >= 6 and set(timeouts) == {5.0}


def test_importing_the_source_loads_neither_textual_nor_the_client() -> None:
    code = ("import sys, shiftdeck.sources.kube, shiftdeck.demo.kube\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'kubernetes')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- #
# The server itself
# --------------------------------------------------------------------------- #


def _get(url: str, accept: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_server_lists_pages_tables_and_refuses_writes(tmp_path: Path) -> None:
    with cluster(tmp_path) as (server, _):
        base = f"{server.cluster_url('prod')}/api/v1/namespaces/{NS}/pods"
        status, page = _get(f"{base}?limit=2")
        assert status == 200 and len(page["items"]) == 2 and page["metadata"]["remainingItemCount"] == 2
        _, rest = _get(f"{base}?limit=2&continue={page['metadata']['continue']}")
        assert [p["metadata"]["name"] for p in rest["items"]] == ["frontend-6f7b9d5c4-tn2vb", "postgresql-0"]
        _, table = _get(f"{base}?fieldSelector=metadata.name%3D{CRASHING}",
                        "application/json;as=Table;v=v1;g=meta.k8s.io")
        assert table["kind"] == "Table"
        assert table["rows"][0]["cells"][:4] == [CRASHING, "0/1", "CrashLoopBackOff", "7 (2m ago)"]
        status, bad = _get(f"{base}?fieldSelector=spec.secret%3Dx")
        assert status == 400 and bad["message"] == "field label not supported: spec.secret"
        request = urllib.request.Request(f"{base}/{CRASHING}", method="DELETE")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 405
        server.forbid("list", "pods", NS)
        status, denied = _get(base)
        assert status == 403 and denied["message"] == (
            'pods is forbidden: User "oncall" cannot list resource "pods" in API group "" '
            'in the namespace "qawave"')


def test_label_selectors_and_durations() -> None:
    labels = {"app": "backend", "tier": "web"}
    assert label_selector("app=backend,tier!=db")(labels)
    assert label_selector("app in (api, backend),!canary,tier")(labels)
    assert not label_selector("app notin (backend)")(labels)
    assert [human_duration(timedelta(seconds=s)) for s in (45, 200, 3000, 20000, 90000, 300000, 10**7)] == [
        "45s", "3m20s", "50m", "5h33m", "25h", "3d11h", "115d"]


# --------------------------------------------------------------------------- #
# Debian's kubectl against the same server
# --------------------------------------------------------------------------- #


def test_kubectl_gets_pods_logs_events_and_rollout_history(tmp_path: Path) -> None:
    with cluster(tmp_path) as (server, kubeconfig):
        home = tmp_path / "home"
        pods = kubectl(kubeconfig, home, "get", "pods", "-n", NS)
        assert pods.returncode == 0, pods.stderr
        header, *rows = pods.stdout.splitlines()
        assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert rows[1].split() == [CRASHING, "0/1", "CrashLoopBackOff", "7", "(2m", "ago)", "120m"]
        assert rows[0].split() == [RESTARTED, "2/2", "Running", "1", "(60m", "ago)", "120m"]

        logs = kubectl(kubeconfig, home, "logs", CRASHING, "-n", NS, "--tail=5")
        assert logs.returncode == 0, logs.stderr
        assert logs.stdout.splitlines()[:3] == ["line 8", "line 9", "line 10"]
        previous = kubectl(kubeconfig, home, "logs", CRASHING, "-n", NS, "--previous", "--tail=1")
        assert previous.stdout == "previous 5\n"

        events = kubectl(kubeconfig, home, "get", "events", "-n", NS, "--sort-by=.lastTimestamp")
        assert events.returncode == 0, events.stderr
        assert "60s (x30 over 120m)   Warning   BackOff" in events.stdout
        assert f"pod/{CRASHING}" in events.stdout and "deployment/backend" in events.stdout

        history = kubectl(kubeconfig, home, "rollout", "history", "deployment/backend", "-n", NS)
        assert history.returncode == 0, history.stderr
        revisions = [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()]
        assert revisions == ["1", "2", "3"]

        staging = kubectl(kubeconfig, home, "--context", "staging", "get", "deploy", "-n", NS)
        assert staging.returncode == 0 and "backend" in staging.stdout
        assert {"prod", "staging"} <= {r.context for r in server.requests}

        server.forbid("list", "pods", NS)
        denied = kubectl(kubeconfig, home, "get", "pods", "-n", NS)
        assert denied.returncode == 1
        assert 'pods is forbidden: User "oncall" cannot list resource "pods"' in denied.stderr
    assert (home / "cache" / "discovery").is_dir()  # kubectl's cache stayed in the test's home


# --------------------------------------------------------------------------- #
# The demo cluster
# --------------------------------------------------------------------------- #


def test_demo_cluster_answers_for_the_demo_alerts(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    with DemoEnvironment(clock) as demo:
        config = yaml.safe_load(demo.kube_config_text())
        assert config == {"kubernetes": {"kubeconfig": str(demo.kubeconfig_path)}}
        settings = KubernetesSettings(kubeconfig=config["kubernetes"]["kubeconfig"])
        client = KubeClient(settings)
        seen = {}
        for actor in demo.scenario.actors:
            if "pod" not in actor.labels:
                continue
            labels = {k: v for k, v in actor.labels.items() if k not in ("alertname", "severity")}
            alert = make_alert(actor.rule.name, **labels)
            scope = scope_for(alert, settings)
            result = client.diagnose(scope, clock.now())
            assert result.errors == (), (actor.rule.name, result.errors)
            assert result.pods[0].name == actor.labels["pod"]
            seen[actor.rule.name] = result
        crash = seen["PodCrashLooping"].pods[0]
        assert (crash.reason, crash.last_termination) == ("CrashLoopBackOff", "OOMKilled")
        assert client.logs(seen["PodCrashLooping"].scope, crash.name, previous=True)
        backend = seen["QAWaveBackendDown"]
        assert [r.revision for r in backend.revisions] == [3, 2, 1]
        assert len({r.images for r in backend.revisions}) == 3
        assert backend.events[0].type == "Warning"
        assert any(line.split()[1] == "ERROR" for line in client.logs(backend.scope, backend.pods[0].name))
        assert seen["HighMemoryUsage"].pods[0].last_termination == "OOMKilled"
        client.close()
        kubeconfig_dir = demo.kubeconfig_path.parent
    assert not kubeconfig_dir.exists()


def test_demo_cluster_is_deterministic() -> None:
    with DemoEnvironment(FrozenClock(NOW)) as demo:
        scenario = demo.scenario
    assert demo_cluster(scenario, NOW) == demo_cluster(scenario, NOW)
    assert demo_cluster(scenario, NOW) != demo_cluster(scenario, NOW + timedelta(minutes=1))


def test_demo_removes_kubeconfigs_of_killed_demos() -> None:
    import tempfile

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    orphan = Path(tempfile.gettempdir()) / f"shiftdeck-demo-kube-{finished.stdout.strip()}-x1y2"
    orphan.mkdir()
    (orphan / "kubeconfig").write_text("{}")
    with DemoEnvironment(FrozenClock(NOW)) as demo:
        assert demo.kubeconfig_path.exists()
    assert not orphan.exists()
