"""Settings of the execution service, read from the environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from httputil import env_value, port_from
from signing import address_of, normalize_private_key


@dataclass(frozen=True)
class ExecutionSettings:
    host: str
    port: int
    rpc_url: str
    private_key: bytes
    performer_address: str
    task_definition_id: int
    send_task_timeout: float


def load_execution_settings(env: Mapping[str, str]) -> ExecutionSettings:
    """Reads the settings, naming the variable when one is missing or wrong."""
    rpc_url = env_value(env, "OTHENTIC_CLIENT_RPC_ADDRESS")
    if not rpc_url:
        raise ValueError("OTHENTIC_CLIENT_RPC_ADDRESS is not set (the aggregator's JSON-RPC URL)")
    raw_key = env_value(env, "PRIVATE_KEY_PERFORMER")
    if not raw_key:
        raise ValueError("PRIVATE_KEY_PERFORMER is not set (the performer's private key)")
    private_key = normalize_private_key(raw_key)
    performer = env_value(env, "PERFORMER_ADDRESS")
    if performer is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", performer):
        raise ValueError(f'PERFORMER_ADDRESS must be a 0x-prefixed 20-byte address, got "{performer}"')
    signature_type = env_value(env, "PERFORMER_SIGNATURE_TYPE") or "ecdsa"
    if signature_type != "ecdsa":
        raise ValueError("PERFORMER_SIGNATURE_TYPE: this Python service signs with ecdsa only")
    return ExecutionSettings(
        host=env_value(env, "HOST") or "0.0.0.0",
        port=port_from(env, "EXECUTION_PORT", 4003),
        rpc_url=rpc_url,
        private_key=private_key,
        performer_address=performer or address_of(private_key),
        task_definition_id=parse_task_definition_id(env_value(env, "TASK_DEFINITION_ID") or 1, "TASK_DEFINITION_ID"),
        send_task_timeout=float(env_value(env, "SEND_TASK_TIMEOUT_MS") or 15000) / 1000,
    )


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_task_definition_id(value: Any, name: str = "taskDefinitionId") -> int:
    number = _integer(value)
    if number is None or not 0 <= number <= 0xFFFF:
        raise ValueError(f"{name} must be an integer from 0 to 65535, got {value!r}")
    return number


def parse_chain_id(value: Any, name: str = "targetChainId") -> int:
    number = _integer(value)
    if number is None or number <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number
