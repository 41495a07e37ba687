"""A local price source in the format the avsctl devnet feed uses:
GET /price?symbol=ETHUSDT -> {"symbol": "ETHUSDT", "price": "3000.00", "timestamp": 1700000000}."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class PriceFeed:
    def __init__(self, prices: dict[str, str], timestamp: int = 1700000000) -> None:
        self.prices = dict(prices)
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                symbol = (parse_qs(url.query).get("symbol") or [""])[0]
                price = feed.prices.get(symbol)
                if url.path == "/price" and price is not None:
                    status, body = 200, {"symbol": symbol, "price": price, "timestamp": timestamp}
                else:
                    status, body = 404, {"error": f"unknown symbol {symbol}"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/price"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
