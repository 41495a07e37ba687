"""The task. This blank one turns the body's `input` (default "hello") into a proof as is, and
carries {"input": ..., "round": N} as data.

TODO: do the real work here and return a proof your validation service can check
(validation-service/validate.py). proofOfTask is any string the attesters can check; data is
extra bytes (0x-hex) carried on-chain with the task.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Mapping

from httputil import HttpError

_round_lock = threading.Lock()
_last_round = 0


def next_round(now_ms: int | None = None) -> int:
    """The next round of this process: max(previous round + 1, current time in ms). It goes into
    data so each execution is its own task (its own task hash), even for the same input: the
    aggregator takes a task it already has as a re-send, not as new work."""
    global _last_round
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    with _round_lock:  # the server answers requests on several threads
        _last_round = max(_last_round + 1, now)
        return _last_round


def perform_task(body: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    value = body.get("input", "hello")
    if not isinstance(value, str) or not value:
        raise HttpError(400, "input must be a non-empty string")
    data = json.dumps({"input": value, "round": next_round()}, separators=(",", ":"))
    return {"proofOfTask": value, "data": "0x" + data.encode("utf-8").hex()}
