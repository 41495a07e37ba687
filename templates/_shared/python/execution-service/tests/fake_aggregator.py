"""A JSON-RPC endpoint on 127.0.0.1 that answers like an Othentic aggregator as far as an
execution service can tell (batches, eth_chainId, sendTask) and records what it received."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from signing import task_hash


class FakeAggregator:
    """send_task_error: answer every sendTask with that error (code -32000). task_known: answer
    every sendTask as a task the network already has, in that state ("pending", "approved", ...):
    error -32022, reason TASK_KNOWN, as the aggregator answers a re-sent task."""

    def __init__(self, chain_id: int = 31338, send_task_error: str | None = None, task_known: str | None = None) -> None:
        self.chain_id = chain_id
        self.send_task_error = send_task_error
        self.task_known = task_known
        self.send_tasks: list[list[Any]] = []
        aggregator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                reply = [aggregator.answer(r) for r in body] if isinstance(body, list) else aggregator.answer(body)
                payload = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        base = {"jsonrpc": "2.0", "id": request.get("id")}
        if request.get("method") == "eth_chainId":
            return {**base, "result": hex(self.chain_id)}
        if request.get("method") == "sendTask":
            self.send_tasks.append(request.get("params") or [])
            if self.send_task_error:
                return {**base, "error": {"code": -32000, "message": self.send_task_error}}
            if self.task_known:
                params = request.get("params") or []
                digest = task_hash(params[0], params[1], params[3], params[2])
                data = {"reason": "TASK_KNOWN", "taskHash": digest, "status": self.task_known, "taskNumber": 7, "txHash": None}
                return {**base, "error": {"code": -32022, "message": f"task {digest} is already known ({self.task_known})", "data": data}}
            return {**base, "result": True}
        return {**base, "error": {"code": -32601, "message": "method not found"}}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
