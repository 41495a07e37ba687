"""A JSON-RPC endpoint on 127.0.0.1 that answers like an Othentic aggregator as far as an
execution service can tell (batches, eth_chainId, sendTask) and records what it received."""

from __future__ import annotations

import json
import socket
import struct
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from signing import task_hash


class FakeAggregator:
    """send_task_error: answer every sendTask with that error (code -32000). task_known: answer
    every sendTask as a task the network already has, in that state ("pending", "approved", ...):
    error -32022, reason TASK_KNOWN, as the aggregator answers a re-sent task. cut_send_task: read
    every request that holds a sendTask, then reset the connection instead of answering it, as an
    aggregator cut mid-request (killed, or restarting) does: whether it took the task is unknown."""

    def __init__(self, chain_id: int = 31338, send_task_error: str | None = None, task_known: str | None = None,
                 cut_send_task: bool = False) -> None:
        self.chain_id = chain_id
        self.send_task_error = send_task_error
        self.task_known = task_known
        self.cut_send_task = cut_send_task
        self.send_tasks: list[list[Any]] = []
        aggregator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                requests = body if isinstance(body, list) else [body]
                if aggregator.cut_send_task and any(r.get("method") == "sendTask" for r in requests):
                    aggregator.send_tasks.extend(r.get("params") or [] for r in requests if r.get("method") == "sendTask")
                    # a reset, not a close: linger 0 drops the connection at once
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
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


def expect_signed_task_handed_back(url: str, cutting: FakeAggregator, body: dict[str, Any]) -> None:
    """POSTs body to /task/execute of a service whose aggregator cut its sendTask (cut_send_task) and
    checks the answer: HTTP 500 naming sendTask, handing back in "data" the very task it signed (its
    hash, and the sendTask params the aggregator received), so that the caller can send that task
    again (the aggregator takes a task once) or follow its hash."""
    request = urllib.request.Request(url + "/task/execute", data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, answer = error.code, json.loads(error.read())
    assert status == 500 and answer["error"] is True
    assert answer["message"].startswith("sendTask failed: ")
    assert len(cutting.send_tasks) == 1, "the service did not send the task again itself"
    params = cutting.send_tasks[0]
    assert answer["data"] == {"taskHash": task_hash(params[0], params[1], params[3], params[2]), "sendTaskParams": params}
