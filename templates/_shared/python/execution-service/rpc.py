"""sendTask on the aggregator's JSON-RPC endpoint."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

# What the aggregator answers for a task it already has (in progress or decided): JSON-RPC error
# -32022, reason "TASK_KNOWN", with the task's state in error.data.
TASK_KNOWN_CODE = -32022


@dataclass(frozen=True)
class SendTaskOutcome:
    # True when the aggregator already had this task (TASK_KNOWN): the network has it, so the
    # task is sent; nothing failed, and sending it again would change nothing.
    known: bool
    # sendTask's result, or the known task's state (error.data: status, taskNumber, ...).
    result: Any


class SendTaskUnanswered(RuntimeError):
    """sendTask got no JSON-RPC answer: the connection was refused or cut, the call timed out, or what
    came back was no JSON-RPC. Unless it was refused, the aggregator may have taken the task; the same
    signed params may be sent again safely, since it takes a task once (TASK_KNOWN after)."""


def send_task(rpc_url: str, params: list[Any], timeout: float = 15.0) -> SendTaskOutcome:
    """Posts one JSON-RPC sendTask request; raises on any JSON-RPC error but TASK_KNOWN."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sendTask", "params": params}).encode("utf-8")
    request = urllib.request.Request(rpc_url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        raise SendTaskUnanswered(f"sendTask failed: {rpc_url} unreachable or answered garbage: {error}") from error
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    if not isinstance(answer, dict):
        raise SendTaskUnanswered("sendTask failed: the aggregator answered something that is not JSON-RPC")
    error = answer.get("error")
    if error:
        if isinstance(error, dict) and error.get("code") == TASK_KNOWN_CODE:
            return SendTaskOutcome(known=True, result=error.get("data"))
        message = error.get("message") if isinstance(error, dict) else error
        raise RuntimeError(f"sendTask failed: {message}")
    return SendTaskOutcome(known=False, result=answer.get("result"))
