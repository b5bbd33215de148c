"""Kubernetes diagnostics for an alert, with the official `kubernetes` client.

The client is synchronous (urllib3): call `KubeClient.diagnose()` and `.logs()` from thread
workers. One ApiClient per kube context, made on first use from the kubeconfig with
`persist_config=False`; every call carries `_request_timeout`; urllib3 does not retry, so a
timeout costs one timeout, not four.

Answers are read as JSON through the client's API methods (`_preload_content=False`): the 37.x
client validates its pydantic models strictly, and one odd field would cost the whole list.
Every string that comes back is sanitised before it is stored.

Failures are sentences, never exceptions, in `diagnose()`: an RBAC denial of one part
("forbidden: cannot list pods in qawave") leaves the other parts to load; an unreachable cluster
or a timeout stops asking (each further call would wait the full timeout again).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from ..domain.kube import (
    Diagnostics, EventInfo, KubeError, KubernetesSettings, PodInfo, RevisionInfo, Scope,
    is_dns1123_label, is_dns1123_subdomain, is_label_key, is_label_value)
from ..domain.sanitize import clean_line

LIMIT = 50
"""At most this many pods, events per object, and events in the result."""
MAX_EVENT_OBJECTS = 10
"""Events are asked per object (field selector) up to this many objects, else once for the
namespace and filtered here."""
MAX_ANSWER = 32 << 20
MAX_LOG_LINE = 4096
"""Characters kept of one log line."""
REVISION = "deployment.kubernetes.io/revision"
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


class _Refused(Exception):
    """One request failed; the others may still work (RBAC, 404, 5xx)."""


class _Unreachable(Exception):
    """The cluster cannot be reached or did not answer in time: stop asking."""


class KubeClient:
    """Diagnostics and logs for alert scopes. Thread-safe; `close()` when done."""

    def __init__(self, settings: KubernetesSettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout.total_seconds()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- the public calls ------------------------------------------------------- #

    def diagnose(self, scope: Scope, now: datetime) -> Diagnostics:
        """Pods, events and rollout history of `scope`; never raises for cluster trouble."""
        problem = _scope_problem(scope)
        if problem:
            return Diagnostics(scope, (), (), (), (problem,), now)
        try:
            run = _Run(self, self._client(scope.context), scope, now)
        except KubeError as err:
            return Diagnostics(scope, (), (), (), (str(err),), now)
        try:
            run.collect()
        except _Unreachable as err:
            run.errors.append(str(err))
        return Diagnostics(scope, tuple(run.pods), tuple(run.events), tuple(run.revisions),
                           tuple(dict.fromkeys(run.errors)), now, run.deployment_name)

    def logs(self, scope: Scope, pod: str, container: str = "", previous: bool = False,
             tail: int = 100) -> list[str]:
        """The last `tail` lines of `pod`'s `container`, sanitised; `previous` for the instance
        before the last restart. Raises KubeError.

        `container` '' picks the pod's default container as kubectl does: the
        `kubectl.kubernetes.io/default-container` annotation, else the first container."""
        problem = _scope_problem(scope)
        if problem:
            raise KubeError(problem)
        if not is_dns1123_subdomain(pod):
            raise KubeError(f"{pod!r} is not a valid pod name")
        if container and not is_dns1123_label(container):
            raise KubeError(f"{container!r} is not a valid container name")
        from kubernetes import client

        core = client.CoreV1Api(self._client(scope.context))
        host = self._host(scope.context)
        what = ("get", "pods/log", scope.namespace)
        try:
            if not container:
                container = self._default_container(core, scope.namespace, pod, host)
            try:
                response = _again_if_dropped(
                    core.read_namespaced_pod_log, pod, scope.namespace, container=container or None,
                    previous=previous, tail_lines=max(1, tail), _preload_content=False,
                    _request_timeout=self.timeout)
                return _tail_lines(response, max(1, tail))
            except Exception as err:
                raise _translate(err, what, host, self.timeout) from err
        except _NotFound:
            raise KubeError(f"pod {pod} not found in {scope.namespace}") from None
        except (_Refused, _Unreachable) as err:
            raise KubeError(str(err)) from None

    def _default_container(self, core: Any, namespace: str, pod: str, host: str) -> str:
        """The container `kubectl logs` would pick; '' (let the server choose) if the pod may
        not be read."""
        try:
            response = _again_if_dropped(core.read_namespaced_pod, pod, namespace,
                                         _preload_content=False, _request_timeout=self.timeout)
            try:
                raw = orjson.loads(response.read(MAX_ANSWER))
            finally:
                response.release_conn()
        except orjson.JSONDecodeError:
            return ""
        except Exception as err:
            failure = _translate(err, ("get", "pods", namespace), host, self.timeout)
            if isinstance(failure, _Refused) and not isinstance(failure, _NotFound):
                return ""
            raise failure from err
        if not isinstance(raw, dict):
            return ""
        names = [str(c.get("name")) for c in _dicts((raw.get("spec") or {}).get("containers"))]
        chosen = ((raw.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
        name = chosen if chosen in names else names[0] if names else ""
        return name if is_dns1123_label(name) else ""

    def prepare(self, context: str = "") -> None:
        """Import the client and load the kubeconfig for `context` now, without a request.

        The first use costs about a second of CPU (the client's ~800 generated modules); call
        this from a thread worker at start-up so the first `d` does not pay it. Raises KubeError
        for a kubeconfig that cannot be loaded."""
        from kubernetes import client

        api = self._client(context)
        client.CoreV1Api(api), client.AppsV1Api(api)  # their modules are most of the cost

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for api in clients:
            api.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- clients -------------------------------------------------------------- #

    def kubeconfig_path(self) -> str:
        """The kubeconfig in use: the setting, else $KUBECONFIG (a path list), else ~/.kube/config."""
        path = self.settings.kubeconfig or os.environ.get("KUBECONFIG", "") or "~/.kube/config"
        return os.pathsep.join(os.path.expanduser(p) for p in path.split(os.pathsep) if p)

    def _client(self, context: str) -> Any:
        with self._lock:
            api = self._clients.get(context)
            if api is None:
                api = self._clients[context] = self._new_client(context)
            return api

    def _new_client(self, context: str) -> Any:
        from kubernetes import client, config

        path = self.kubeconfig_path()
        if not any(os.path.exists(p) for p in path.split(os.pathsep)):
            raise KubeError(f"kubeconfig: {path} does not exist")
        try:
            if context:
                contexts, _current = config.list_kube_config_contexts(config_file=path)
                if context not in {c.get("name") for c in contexts}:
                    raise KubeError(f"kubeconfig: no context {context!r} in {path}")
            configuration = client.Configuration()
            config.load_kube_config(config_file=path, context=context or None,
                                    client_configuration=configuration, persist_config=False)
        except KubeError:
            raise
        except Exception as err:  # ConfigException, YAML errors, exec plugins failing...
            raise KubeError(f"kubeconfig: {clean_line(err, 300)}") from None
        configuration.retries = False
        return client.ApiClient(configuration=configuration)

    def _host(self, context: str) -> str:
        with self._lock:
            api = self._clients.get(context)
        return urlsplit(api.configuration.host).netloc if api is not None else "the cluster"


def _again_if_dropped(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call; once more if the connection broke before an answer. urllib3 retries nothing here
    (a timeout must cost one timeout), but a kept-alive connection that a proxy dropped while
    idle fails on reuse, and a fresh one is the fix."""
    from urllib3.exceptions import ProtocolError

    try:
        return method(*args, **kwargs)
    except ProtocolError:
        return method(*args, **kwargs)


def _scope_problem(scope: Scope) -> str:
    """Why nothing may be asked for `scope` ('' if it may): scope_for() refuses bad names, and a
    Scope built another way gets the same checks before its names reach a URL or a selector."""
    if scope.refused:
        return scope.refused
    if not is_dns1123_label(scope.namespace):
        return f"namespace {scope.namespace!r} is not a valid Kubernetes name"
    for what, name in (("pod", scope.pod), ("deployment", scope.deployment)):
        if name and not is_dns1123_subdomain(name):
            return f"{what} {name!r} is not a valid Kubernetes name"
    return ""


class _Run:
    """One diagnose(): the calls, in order, and what they found."""

    def __init__(self, owner: KubeClient, api: Any, scope: Scope, now: datetime) -> None:
        from kubernetes import client

        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.timeout, self.scope, self.now = owner.timeout, scope, now
        self.host = urlsplit(api.configuration.host).netloc
        self.ns = scope.namespace
        self.errors: list[str] = []
        self.pods: list[PodInfo] = []
        self.events: list[EventInfo] = []
        self.revisions: list[RevisionInfo] = []
        self.deployment_name = scope.deployment

    def call(self, verb: str, resource: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The decoded JSON answer, or _Refused / _Unreachable."""
        try:
            response = _again_if_dropped(method, *args, _preload_content=False,
                                         _request_timeout=self.timeout, **kwargs)
            try:
                data = response.read(MAX_ANSWER + 1)
            finally:
                response.release_conn()
            if len(data) > MAX_ANSWER:
                raise _Refused(f"{resource}: the answer is larger than {MAX_ANSWER >> 20} MiB")
            answer = orjson.loads(data)
            if not isinstance(answer, dict):
                raise _Refused(f"{resource}: unreadable answer")
            return answer
        except (_Refused, _Unreachable):
            raise
        except orjson.JSONDecodeError:
            raise _Refused(f"{resource}: unreadable answer (not JSON)") from None
        except Exception as err:
            raise _translate(err, (verb, resource, self.ns), self.host, self.timeout) from err

    def attempt(self, part: Callable[[], None]) -> None:
        try:
            part()
        except _Refused as err:
            self.errors.append(str(err))

    def collect(self) -> None:
        deployment: dict[str, Any] | None = None
        raw_pods: list[dict[str, Any]] = []

        def read_deployment(name: str) -> None:
            nonlocal deployment
            deployment = self.read_deployment(name)

        def list_pods() -> None:
            raw_pods.extend(self.list_pods(deployment))

        if self.scope.deployment:
            self.attempt(lambda: read_deployment(self.scope.deployment))
        self.attempt(list_pods)
        if not self.scope.deployment:
            owner = _deployment_from_pods(raw_pods)
            if owner:
                self.deployment_name = owner
                self.attempt(lambda: read_deployment(owner))
        self.pods = _sorted_pods([_pod_info(p, self.now) for p in raw_pods], self.scope.pod)
        live_replicaset = ""
        if deployment is not None:
            self.attempt(lambda: self.list_revisions(deployment))
            live_replicaset = next((r.replicaset for r in self.revisions), "")
        objects = [("Pod", p.name) for p in self.pods]
        if self.scope.pod and ("Pod", self.scope.pod) not in objects:  # pods may be forbidden
            objects.insert(0, ("Pod", self.scope.pod))
        if self.deployment_name and deployment is not None:
            objects.append(("Deployment", self.deployment_name))
        if live_replicaset:
            objects.append(("ReplicaSet", live_replicaset))
        self.attempt(lambda: self.list_events(objects))

    # -- the parts ------------------------------------------------------------ #

    def read_deployment(self, name: str) -> dict[str, Any] | None:
        try:
            return self.call("get", "deployments", self.apps.read_namespaced_deployment, name, self.ns)
        except _NotFound:
            self.errors.append(f"deployment {name} not found in {self.ns}")
            return None

    def list_pods(self, deployment: dict[str, Any] | None) -> list[dict[str, Any]]:
        scope, list_pods = self.scope, self.core.list_namespaced_pod
        if scope.selector:
            return self._items(self.call("list", "pods", list_pods, self.ns, label_selector=scope.selector,
                                         limit=LIMIT))
        if scope.pod:
            found = self._items(self.call("list", "pods", list_pods, self.ns,
                                          field_selector=f"metadata.name={scope.pod}", limit=1))
            if found:
                return found
            self.errors.append(f"pod {scope.pod} no longer exists in {self.ns}")
        selector = _selector_of(deployment)
        if selector:
            return self._items(self.call("list", "pods", list_pods, self.ns, label_selector=selector,
                                         limit=LIMIT))
        if scope.pod:
            return []
        return self._items(self.call("list", "pods", list_pods, self.ns, limit=LIMIT))

    def list_revisions(self, deployment: dict[str, Any]) -> None:
        selector = _selector_of(deployment)
        if not selector:
            return
        meta = deployment.get("metadata") or {}
        uid, name = meta.get("uid"), meta.get("name")
        answer = self.call("list", "replicasets", self.apps.list_namespaced_replica_set, self.ns,
                           label_selector=selector, limit=100)
        revisions = []
        for rs in self._items(answer):
            rs_meta = rs.get("metadata") or {}
            owners = [o for o in rs_meta.get("ownerReferences") or [] if isinstance(o, dict)
                      and o.get("controller") and o.get("kind") == "Deployment"]
            if not any(o.get("uid") == uid if uid else o.get("name") == name for o in owners):
                continue
            try:
                revision = int((rs_meta.get("annotations") or {}).get(REVISION, ""))
            except ValueError:
                revision = 0
            containers = (((rs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")
            revisions.append(RevisionInfo(
                revision=revision,
                replicaset=clean_line(rs_meta.get("name")),
                images=tuple(clean_line(c.get("image")) for c in containers or [] if isinstance(c, dict)),
                created=_time(rs_meta.get("creationTimestamp")),
                replicas=_int((rs.get("spec") or {}).get("replicas")),
            ))
        self.revisions = sorted(revisions, key=lambda r: (r.revision, r.replicaset), reverse=True)

    def list_events(self, objects: list[tuple[str, str]]) -> None:
        objects = [(kind, name) for kind, name in objects if is_dns1123_subdomain(name)]
        if not objects:
            return
        raw: list[dict[str, Any]] = []
        if len(objects) <= MAX_EVENT_OBJECTS:
            for kind, name in objects:
                raw += self._items(self.call(
                    "list", "events", self.core.list_namespaced_event, self.ns,
                    field_selector=f"involvedObject.kind={kind},involvedObject.name={name}", limit=LIMIT))
        else:
            wanted = set(objects)
            answer = self.call("list", "events", self.core.list_namespaced_event, self.ns, limit=500)
            raw = [e for e in self._items(answer) if _involved(e) in wanted]
        events = {(e.get("metadata") or {}).get("uid") or id(e): _event_info(e) for e in raw}
        self.events = sorted(events.values(), key=_event_order)[:LIMIT]

    @staticmethod
    def _items(answer: dict[str, Any]) -> list[dict[str, Any]]:
        items = answer.get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# --------------------------------------------------------------------------- #
# Reading objects
# --------------------------------------------------------------------------- #


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """raw[key] when it is an object, else {}: what a server sends is not trusted to be shaped."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _pod_info(raw: dict[str, Any], now: datetime) -> PodInfo:
    meta, spec, status = (_dict(raw, k) for k in ("metadata", "spec", "status"))
    containers = tuple(clean_line(c.get("name")) for c in _dicts(spec.get("containers")))
    statuses = _dicts(status.get("containerStatuses"))
    waiting = terminated = last = ""
    last_finished: datetime | None = None
    for container in statuses:
        state = _dict(container, "state")
        waiting = waiting or str((state.get("waiting") or {}).get("reason") or "")
        terminated = terminated or str((state.get("terminated") or {}).get("reason") or "")
        previous = (container.get("lastState") or {}).get("terminated") or {}
        if isinstance(previous, dict) and previous.get("reason"):
            finished = _time(previous.get("finishedAt"))
            if not last or (finished and (last_finished is None or finished > last_finished)):
                last, last_finished = str(previous["reason"]), finished
    created = _time(meta.get("creationTimestamp"))
    ready = sum(1 for c in statuses if c.get("ready") is True)
    return PodInfo(
        name=clean_line(meta.get("name")),
        phase=clean_line(status.get("phase")),
        ready=f"{ready}/{len(containers) or len(statuses)}",
        restarts=sum(_int(c.get("restartCount")) for c in statuses),
        age=now - created if created else None,
        node=clean_line(spec.get("nodeName")),
        reason=clean_line(waiting or terminated or status.get("reason") or last),
        last_termination=clean_line(last),
        containers=containers,
    )


def _troubled(pod: PodInfo) -> bool:
    ready, _, total = pod.ready.partition("/")
    return bool(pod.reason) or ready != total or pod.phase not in ("Running", "Succeeded")


def _sorted_pods(pods: list[PodInfo], first: str) -> list[PodInfo]:
    return sorted(pods, key=lambda p: (p.name != first, not _troubled(p), p.name))


def _involved(raw: dict[str, Any]) -> tuple[str, str]:
    involved = raw.get("involvedObject") or raw.get("regarding") or {}
    if not isinstance(involved, dict):
        return ("", "")
    return (str(involved.get("kind") or ""), str(involved.get("name") or ""))


def _event_info(raw: dict[str, Any]) -> EventInfo:
    series = _dict(raw, "series")
    meta = _dict(raw, "metadata")
    last_seen = (_time(series.get("lastObservedTime")) or _time(raw.get("lastTimestamp"))
                 or _time(raw.get("eventTime")) or _time(raw.get("firstTimestamp"))
                 or _time(meta.get("creationTimestamp")))
    kind, name = _involved(raw)
    return EventInfo(
        type=clean_line(raw.get("type")),
        reason=clean_line(raw.get("reason")),
        object=clean_line(f"{kind}/{name}"),
        message=clean_line(raw.get("message") or raw.get("note")),
        count=_int(series.get("count")) or _int(raw.get("count")) or 1,
        last_seen=last_seen,
    )


def _event_order(event: EventInfo) -> tuple[bool, float]:
    seen = event.last_seen.timestamp() if event.last_seen else float("-inf")
    return (event.type != "Warning", -seen)


def _selector_of(deployment: Mapping[str, Any] | None) -> str:
    """The deployment's spec.selector as a label selector string ('' if none or not valid)."""
    selector = ((deployment or {}).get("spec") or {}).get("selector") or {}
    if not isinstance(selector, dict):
        return ""
    terms = []
    for key, value in (selector.get("matchLabels") or {}).items():
        if not (is_label_key(str(key)) and is_label_value(str(value))):
            return ""
        terms.append(f"{key}={value}")
    for expression in _dicts(selector.get("matchExpressions")):
        key, operator = str(expression.get("key", "")), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        if not is_label_key(key) or not all(is_label_value(v) for v in values):
            return ""
        if operator in ("In", "NotIn"):
            terms.append(f"{key} {operator.lower()} ({','.join(values)})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            return ""
    return ",".join(terms)


def _deployment_from_pods(pods: Iterable[dict[str, Any]]) -> str:
    """The Deployment owning the pods, read from names: a pod owned by ReplicaSet
    `<deployment>-<pod-template-hash>` (how the deployment controller names them)."""
    for raw in pods:
        meta = raw.get("metadata") or {}
        template_hash = (meta.get("labels") or {}).get("pod-template-hash", "")
        for owner in _dicts(meta.get("ownerReferences")):
            name = str(owner.get("name") or "")
            if owner.get("kind") == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
                deployment = name[: -len(template_hash) - 1]
                if is_dns1123_subdomain(deployment):
                    return deployment
    return ""


# --------------------------------------------------------------------------- #
# Logs
# --------------------------------------------------------------------------- #

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def _tail_lines(response: Any, tail: int) -> list[str]:
    """Read the log stream keeping the last `tail` lines, each at most MAX_LOG_LINE characters."""
    lines: deque[str] = deque(maxlen=tail)
    partial, total = bytearray(), 0
    byte_cap = MAX_LOG_LINE * 4
    try:
        for chunk in response.stream(64 * 1024):
            total += len(chunk)
            if total > MAX_ANSWER:
                break
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                if len(partial) < byte_cap:
                    partial += chunk[start:end][: byte_cap - len(partial)]
                lines.append(_log_line(partial))
                partial.clear()
                start = end + 1
            if len(partial) < byte_cap:
                partial += chunk[start:][: byte_cap - len(partial)]
        if partial:
            lines.append(_log_line(partial))
    finally:
        response.release_conn()
    return list(lines)


def _log_line(raw: bytes | bytearray) -> str:
    text = bytes(raw).decode("utf-8", "replace")
    return clean_line(_ANSI.sub("", text), MAX_LOG_LINE)


# --------------------------------------------------------------------------- #
# Failures in words
# --------------------------------------------------------------------------- #


class _NotFound(_Refused):
    pass


def _translate(err: BaseException, what: tuple[str, str, str], host: str, timeout: float) -> Exception:
    """A client exception as _Refused (this call failed) or _Unreachable (stop asking)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError, ProtocolError, SSLError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    verb, resource, namespace = what
    if isinstance(err, MaxRetryError) and err.reason is not None:
        err = err.reason
    if isinstance(err, ApiException):
        status = err.status or 0
        if status == 0:
            return _Unreachable(f"unreachable: {host}: {clean_line(err.reason, 200)}")
        if status == 403:
            return _Refused(f"forbidden: cannot {verb} {resource} in {namespace}")
        if status == 401:
            return _Unreachable(f"unauthorized: {host} refused the kubeconfig's credentials")
        message = _status_message(err.body) or clean_line(err.reason, 200)
        if status == 404:
            return _NotFound(f"{resource}: not found: {message}")
        if status == 400 and resource == "pods/log":
            return _Refused(message)
        return _Refused(f"{resource}: HTTP {status}: {message}")
    if isinstance(err, NewConnectionError):  # before timeouts: it subclasses ConnectTimeoutError
        return _Unreachable(f"unreachable: {host}: {_os_reason(err)}")
    if isinstance(err, Urllib3Timeout | socket.timeout | TimeoutError):
        return _Unreachable(f"timed out after {timeout:g}s")
    if isinstance(err, SSLError):
        return _Unreachable(f"unreachable: {host}: TLS: {clean_line(err, 200)}")
    if isinstance(err, ProtocolError | HTTPError | OSError):
        return _Unreachable(f"unreachable: {host}: {_os_reason(err)}")
    return _Refused(f"{resource}: {type(err).__name__}: {clean_line(err, 200)}")


def _os_reason(err: BaseException) -> str:
    """The innermost OS-level reason ("connection refused"), else the message."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return clean_line(seen.strerror.lower(), 200)
        for arg in getattr(seen, "args", ()):
            if isinstance(arg, OSError) and arg.strerror:
                return clean_line(arg.strerror.lower(), 200)
        seen = seen.__cause__ or seen.__context__
    return clean_line(err, 200)


def _status_message(body: object) -> str:
    """The `message` of a Kubernetes Status answer, sanitised."""
    if not body:
        return ""
    try:
        status = orjson.loads(body if isinstance(body, bytes | str) else str(body))
    except orjson.JSONDecodeError:
        return clean_line(body, 200)
    return clean_line(status.get("message"), 300) if isinstance(status, dict) else ""
