"""The task: fetch the current price of a symbol, pin the report on IPFS and prove it by its CID,
as this process's next round (so each execution is its own task).

Body fields it reads: `symbol` (default PRICE_SYMBOL or ETHUSDT). Change this function to change
what the AVS does; keep validation-service/validate.py in step with it.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from httputil import HttpError, env_value
from ipfs import pin_json
from price import DEFAULT_PRICE_SOURCE_URL, DEFAULT_SYMBOL, SYMBOL_PATTERN, build_report, fetch_price, next_round, report_data


def perform_task(body: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    symbol = body.get("symbol")
    if symbol is None:
        symbol = env_value(env, "PRICE_SYMBOL") or DEFAULT_SYMBOL
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        raise HttpError(400, f"symbol must match {SYMBOL_PATTERN.pattern}, got {symbol!r}")
    source = env_value(env, "PRICE_SOURCE_URL") or DEFAULT_PRICE_SOURCE_URL
    quote = fetch_price(source, symbol)
    # The source's own time when it sends one: the time of the quote, not of this run.
    timestamp = quote["timestamp"] if quote["timestamp"] is not None else int(time.time())
    report = build_report(quote["price"], next_round(), symbol, timestamp)
    try:
        cid = pin_json(env, report, f"price-report-{report['round']}")
    except RuntimeError as error:
        # 502: an upstream failed; the task is not sent, as the attesters could not read it back.
        raise HttpError(502, f"storing the report on IPFS failed: {error}") from None
    return {"proofOfTask": cid, "data": report_data(report)}
