"""Runbook texts shared by the runbook-screen tests and their snapshot."""

RUNBOOK = """---
title: Backend down
owner: platform
---
# Backend down

```bash
# what is running
kubectl version --client
kubectl rollout undo deployment/backend -n {{ $labels.namespace }}
kubectl get pods -n {{ $labels.namespace }} && kubectl delete pod x
```
"""
