"""sendTask on the aggregator's JSON-RPC endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def send_task(rpc_url: str, params: list[Any], timeout: float = 15.0) -> Any:
    """Posts one JSON-RPC sendTask request and returns its result; raises on any JSON-RPC error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sendTask", "params": params}).encode("utf-8")
    request = urllib.request.Request(rpc_url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RuntimeError(f"sendTask failed: {rpc_url} unreachable or answered garbage: {error}") from error
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    if not isinstance(answer, dict):
        raise RuntimeError("sendTask failed: the aggregator answered something that is not JSON-RPC")
    if answer.get("error"):
        message = answer["error"].get("message") if isinstance(answer["error"], dict) else answer["error"]
        raise RuntimeError(f"sendTask failed: {message}")
    return answer.get("result")
