"""Approves or rejects a task. This blank one approves any non-empty proof.

TODO: recompute or check the work of execution-service/task.py here; return False for a wrong
proof and raise (HTTP 500) only when this service cannot decide.
"""

from __future__ import annotations

from typing import Any, Mapping


def validate_task(request: dict[str, Any], env: Mapping[str, str]) -> bool:
    proof = request.get("proofOfTask")
    return isinstance(proof, str) and len(proof) > 0
