"""The price report and its proof, shared word for word by the execution service (which builds
them) and the validation service (which checks them), and identical in the TypeScript, Python
and Go versions of this template, so any of them can check the others' proofs:

    canonical JSON = {"price":"<decimal>","round":<round>,"symbol":"<symbol>","timestamp":<unix seconds>}
                     exactly these keys in this order, no whitespace, ASCII only
    data           = "0x" + lowercase hex of the UTF-8 bytes of the canonical JSON
    proofOfTask    = the CID under which the report is pinned on IPFS (see ipfs.py)

price matches PRICE_PATTERN (a plain decimal string, as the source sent it), symbol matches
SYMBOL_PATTERN, round and timestamp are integers from 0 to 2^53-1.

round numbers the executions of one execution service process: max(previous round + 1, current
time in ms), so each execution is its own task (its own task hash) even when the price and the
source's timestamp have not moved, and rounds increase across restarts as long as the clock does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from typing import Any

PRICE_PATTERN = re.compile(r"(0|[1-9][0-9]{0,59})(\.[0-9]{1,30})?")
SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,32}")
DEFAULT_PRICE_SOURCE_URL = "https://api.binance.com/api/v3/ticker/price"
DEFAULT_SYMBOL = "ETHUSDT"
DEFAULT_TOLERANCE_BPS = 100
MAX_TIMESTAMP = 2**53 - 1


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TIMESTAMP


_round_lock = threading.Lock()
_last_round = 0


def next_round(now_ms: int | None = None) -> int:
    """The next round of this process: max(previous round + 1, current time in ms)."""
    global _last_round
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    with _round_lock:  # the server answers requests on several threads
        _last_round = max(_last_round + 1, now)
        return _last_round


def canonical_json(price: str, round_number: int, symbol: str, timestamp: int) -> str:
    """The canonical JSON text of a report; raises ValueError when a field is outside the rule."""
    if not isinstance(price, str) or not PRICE_PATTERN.fullmatch(price):
        raise ValueError(f"price {price!r} is not a plain decimal")
    if not _is_timestamp(round_number):
        raise ValueError(f"round {round_number!r} is not a non-negative integer")
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        raise ValueError(f"symbol {symbol!r} is not allowed")
    if not _is_timestamp(timestamp):
        raise ValueError(f"timestamp {timestamp!r} is not a non-negative integer")
    return f'{{"price":"{price}","round":{round_number},"symbol":"{symbol}","timestamp":{timestamp}}}'


def build_report(price: str, round_number: int, symbol: str, timestamp: int) -> dict[str, Any]:
    """The report as a JSON object, in canonical key order; raises ValueError outside the rule."""
    canonical_json(price, round_number, symbol, timestamp)
    return {"price": price, "round": round_number, "symbol": symbol, "timestamp": timestamp}


def report_data(report: dict[str, Any]) -> str:
    """`data`: the canonical JSON of the report as 0x-hex."""
    text = canonical_json(report["price"], report["round"], report["symbol"], report["timestamp"])
    return "0x" + text.encode("utf-8").hex()


def parse_report(value: Any) -> dict[str, Any] | None:
    """The report in a parsed JSON value, or None unless it is an object with exactly the four
    fields, each within the rule (its key order and spacing do not matter here)."""
    if not isinstance(value, dict) or sorted(value) != ["price", "round", "symbol", "timestamp"]:
        return None
    try:
        report = build_report(value["price"], value["round"], value["symbol"], value["timestamp"])
    except ValueError:
        return None
    return report


def decode_report(data: Any) -> dict[str, Any] | None:
    """The report in `data`, or None unless `data` is exactly the canonical JSON of a valid report."""
    if not isinstance(data, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", data):
        return None
    try:
        text = bytes.fromhex(data[2:]).decode("utf-8")
        report = parse_report(json.loads(text))
    except ValueError:
        return None
    return report if report is not None and report_data(report)[2:] == data[2:].lower() else None


def _scaled(decimal: str, decimals: int) -> int:
    whole, _, fraction = decimal.partition(".")
    return int(whole + fraction.ljust(decimals, "0"))


def within_tolerance(claimed: str, reference: str, tolerance_bps: int) -> bool:
    """Exact decimal comparison: |claimed - reference| * 10000 <= tolerance_bps * reference."""
    decimals = max(len(claimed.partition(".")[2]), len(reference.partition(".")[2]))
    a, b = _scaled(claimed, decimals), _scaled(reference, decimals)
    return abs(a - b) * 10000 <= tolerance_bps * b


def price_url(source_url: str, symbol: str) -> str:
    return f"{source_url}{'&' if '?' in source_url else '?'}symbol={symbol}"


def fetch_price(source_url: str, symbol: str, timeout: float = 10.0) -> dict[str, Any]:
    """Fetches {"price": "<decimal string>", "timestamp"?: <unix seconds>}; the price must be a
    string, as a JSON number would print differently in each language."""
    url = price_url(source_url, symbol)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"price source {url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RuntimeError(f"price source {url} unreachable: {error}") from None
    price = body.get("price") if isinstance(body, dict) else None
    if not isinstance(price, str) or not PRICE_PATTERN.fullmatch(price):
        raise RuntimeError(f'price source {url} did not answer {{"price": "<decimal string>"}}')
    timestamp = body.get("timestamp")
    return {"price": price, "timestamp": timestamp if _is_timestamp(timestamp) else None}
