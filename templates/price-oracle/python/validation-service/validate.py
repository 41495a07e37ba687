"""Approves a price report when `data` is the canonical JSON of a report, `proofOfTask` is its
keccak256 digest, and the price is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the price
this service fetches itself. Raises (HTTP 500) only when it cannot fetch that price."""

from __future__ import annotations

from typing import Any, Mapping

from httputil import env_value
from price import DEFAULT_PRICE_SOURCE_URL, DEFAULT_TOLERANCE_BPS, decode_report, fetch_price, proof_matches_data, within_tolerance


def validate_task(request: dict[str, Any], env: Mapping[str, str]) -> bool:
    report = decode_report(request.get("data"))
    if report is None or not proof_matches_data(request.get("proofOfTask"), request["data"]):
        return False
    source = env_value(env, "PRICE_SOURCE_URL") or DEFAULT_PRICE_SOURCE_URL
    tolerance = _tolerance_bps(env)
    reference = fetch_price(source, report["symbol"])
    return within_tolerance(report["price"], reference["price"], tolerance)


def _tolerance_bps(env: Mapping[str, str]) -> int:
    raw = env_value(env, "PRICE_TOLERANCE_BPS")
    if raw is None:
        return DEFAULT_TOLERANCE_BPS
    if not raw.isdigit() or int(raw) > 10000:
        raise ValueError(f'PRICE_TOLERANCE_BPS must be an integer from 0 to 10000, got "{raw}"')
    return int(raw)
