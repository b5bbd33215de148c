"""Answers as the API server writes them: JSON bodies and `Status` objects for errors."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .objects import Obj


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


class BadRequest(ValueError):
    """A request the API server would answer with 400."""


def json_answer(payload: object, status: int = 200) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")


def status_answer(code: int, reason: str, message: str, details: Obj | None = None) -> Answer:
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return json_answer(body, code)


def not_found(resource: str, name: str) -> Answer:
    return status_answer(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})
