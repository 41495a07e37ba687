"""The task. This blank one turns the body's `input` (default "hello") into a proof as is.

TODO: do the real work here and return a proof your validation service can check
(validation-service/validate.py). proofOfTask is any string the attesters can check; data is
extra bytes (0x-hex) carried on-chain with the task.
"""

from __future__ import annotations

from typing import Any, Mapping

from httputil import HttpError


def perform_task(body: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    value = body.get("input", "hello")
    if not isinstance(value, str) or not value:
        raise HttpError(400, "input must be a non-empty string")
    return {"proofOfTask": value, "data": "0x" + value.encode("utf-8").hex()}
