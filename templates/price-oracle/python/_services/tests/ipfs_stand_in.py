"""A local stand-in for Pinata (its pinning API and its gateway) on 127.0.0.1, so the tests need
no network and no account: POST /pinning/pinJSONToIPFS stores the JSON and answers
{"IpfsHash", "PinSize", "Timestamp"}; GET /ipfs/<cid> serves it back, 404 for an unknown CID.
Its ids have the shape of a CIDv0 (base58btc of 0x1220 + sha256 of the stored bytes) but are not
the CIDs IPFS would compute (no UnixFS wrapping); the services only pass them along."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def cid_of(content: bytes) -> str:
    return base58(b"\x12\x20" + hashlib.sha256(content).digest())


class StandInIpfs:
    """fail_pins / fail_gateway: answer every pin / every gateway read with that HTTP status."""

    def __init__(self, fail_pins: int | None = None, fail_gateway: int | None = None) -> None:
        self.fail_pins = fail_pins
        self.fail_gateway = fail_gateway
        self.content: dict[str, bytes] = {}
        # Every pin request received: {"body": parsed JSON, "authorization": header or None}.
        self.pins: list[dict[str, Any]] = []
        ipfs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/pinning/pinJSONToIPFS":
                    self._send(404, b'{"error":"not found"}')
                    return
                body = json.loads(raw)
                ipfs.pins.append({"body": body, "authorization": self.headers.get("Authorization")})
                if ipfs.fail_pins:
                    self._send(ipfs.fail_pins, b'{"error":"pinning is down"}')
                    return
                # As Pinata and the devnet node do: the document is stored as compact JSON.
                cid = ipfs.put(json.dumps(body["pinataContent"], separators=(",", ":")).encode())
                size = len(ipfs.content[cid])
                self._send(200, json.dumps({"IpfsHash": cid, "PinSize": size, "Timestamp": "2026-01-01T00:00:00.000Z"}).encode())

            def do_GET(self) -> None:  # noqa: N802
                if ipfs.fail_gateway:
                    self._send(ipfs.fail_gateway, b'{"error":"gateway is down"}')
                    return
                content = ipfs.content.get(self.path.removeprefix("/ipfs/")) if self.path.startswith("/ipfs/") else None
                if content is None:
                    self._send(404, b'{"error":"no such content"}')
                else:
                    self._send(200, content)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # What a service is given: PINATA_API_URL and PINATA_GATEWAY.
        self.env = {"PINATA_API_URL": url, "PINATA_GATEWAY": f"{url}/ipfs/"}
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def put(self, content: bytes) -> str:
        """Stores bytes as they are and returns their id, as if pinned."""
        cid = cid_of(content)
        self.content[cid] = content
        return cid

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
