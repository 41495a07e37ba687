"""Approves a price report when `proofOfTask` is a CID, the gateway (PINATA_GATEWAY) serves a
valid report under it, that report's canonical JSON is `data` (when data is given), and its price
is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the price this service fetches itself.
Content the gateway does not have (a 4xx other than 408 and 429) is a rejection. Raises (HTTP 500)
only when it cannot decide: the gateway unreachable, failing (5xx), timing out (408) or rate
limiting (429), or its own price source down."""

from __future__ import annotations

import json
from typing import Any, Mapping

from httputil import env_value
from ipfs import fetch_content, looks_like_cid
from price import DEFAULT_PRICE_SOURCE_URL, DEFAULT_TOLERANCE_BPS, decode_report, fetch_price, parse_report, report_data, within_tolerance


def validate_task(request: dict[str, Any], env: Mapping[str, str]) -> bool:
    cid = request.get("proofOfTask")
    data = request.get("data")
    if not looks_like_cid(cid):
        return False
    # A task may carry its result in IPFS alone (data missing or null); data that is sent must be
    # the report, and data that is not a canonical report ("" and "0x" included) can match no
    # content: no need to ask the gateway.
    if data is not None and decode_report(data) is None:
        return False
    tolerance = _tolerance_bps(env)
    content = fetch_content(env, cid)
    if content is None:
        return False
    try:
        report = parse_report(json.loads(content.decode("utf-8")))
    except (ValueError, RecursionError):  # not JSON (or absurdly nested): not a report
        return False
    if report is None or (data is not None and report_data(report)[2:] != data[2:].lower()):
        return False
    source = env_value(env, "PRICE_SOURCE_URL") or DEFAULT_PRICE_SOURCE_URL
    reference = fetch_price(source, report["symbol"])
    return within_tolerance(report["price"], reference["price"], tolerance)


def _tolerance_bps(env: Mapping[str, str]) -> int:
    raw = env_value(env, "PRICE_TOLERANCE_BPS")
    if raw is None:
        return DEFAULT_TOLERANCE_BPS
    if not raw.isdigit() or int(raw) > 10000:
        raise ValueError(f'PRICE_TOLERANCE_BPS must be an integer from 0 to 10000, got "{raw}"')
    return int(raw)
