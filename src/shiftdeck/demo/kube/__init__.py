"""A Kubernetes API server on loopback, fed from fixture objects (the demo's cluster).

There is no kube-apiserver here, so this speaks just enough of its REST API for the real
`kubernetes` Python client and kubectl to talk to it through a generated kubeconfig:

- discovery: /version, /api, /apis, /api/v1, /apis/apps, /apis/apps/v1 (discovery);
- core/v1 pods (list, get, log), events, namespaces; apps/v1 deployments, replicasets; list
  filters `labelSelector`, `fieldSelector`, `limit` + `continue` (api, store, selectors, pods);
- Table answers (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which `kubectl get`
  asks for and prints column by column (tables);
- kubeconfigs with a context per "cluster", each served at `<url>/clusters/<context>`, and a
  token user each (client-go sends no token over plain http, so none is accepted; a wrong one
  gets 401) (kubeconfig, server);
- metrics.k8s.io/v1beta1 PodMetrics, which `kubectl top pods` reads (metrics);
- read-only: writes → 405.

`demo_cluster()` (world) builds the demo's world from the demo scenario: the alerts' pods under
their names, their deployments with rollout history (workloads), events and logs (logtext).
Stdlib only (no `kubernetes` import: the clients under test bring their own).
"""

from .answers import Answer, BadRequest, status_answer
from .api import KubeApi, ResourceCall, split_context
from .events import event
from .kubeconfig import DEFAULT_USER, write_kubeconfig
from .objects import Obj, human_duration, namespace, owner_ref, parse_time, rfc3339, uid_for
from .pods import pod
from .selectors import field_selector, label_selector
from .server import KubeApiServer
from .store import RESOURCES, KubeStore, KubeWorld
from .workloads import CHANGE_CAUSE, REVISION, deployment, replicaset
from .world import demo_cluster

__all__ = [
    "CHANGE_CAUSE", "DEFAULT_USER", "RESOURCES", "REVISION", "Answer", "BadRequest", "KubeApi",
    "KubeApiServer", "KubeStore", "KubeWorld", "Obj", "ResourceCall", "demo_cluster", "deployment",
    "event", "field_selector", "human_duration", "label_selector", "namespace", "owner_ref", "parse_time",
    "pod", "replicaset", "rfc3339", "split_context", "status_answer", "uid_for", "write_kubeconfig",
]
