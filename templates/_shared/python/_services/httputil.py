"""HTTP and environment plumbing shared by the services (the same file in both)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, MutableMapping

MAX_BODY_BYTES = 1024 * 1024


class HttpError(Exception):
    """An error whose HTTP status the server answers with (400 for bad input), and its "data"."""

    def __init__(self, status: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.data = data or {}


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """An environment value, with an empty string (as in a copied .env.example) treated as unset."""
    value = env.get(name, "").strip()
    return value or None


def port_from(env: Mapping[str, str], specific: str, fallback: int) -> int:
    """The listening port: the service-specific variable first, then PORT, then the default."""
    name = specific if env_value(env, specific) is not None else "PORT"
    raw = env_value(env, name)
    if raw is None:
        return fallback
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError(f'{name} must be a port number, got "{raw}"')
    return int(raw)


def load_env_files(files: list[str], env: MutableMapping[str, str] = os.environ) -> None:
    """Loads KEY=VALUE files without overriding what is set, so the devnet and Docker win."""
    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            key = key.removeprefix("export ").strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env.setdefault(key, value)


Route = Callable[[dict[str, Any]], tuple[int, Any]]


def log_failure(service: str, method: str, path: str, status: int, message: str) -> None:
    """A request that failed on our side, on stderr (the service's log): a caller's error says only "500"."""
    if os.environ.get("LOG_FORMAT") == "json":
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(), "level": "error", "msg": "request failed",
                           "service": service, "method": method, "path": path, "status": status, "error": message})
    else:
        line = f"{service}: {method} {path} failed ({status}): {message}"
    print(line, file=sys.stderr, flush=True)


def make_server(host: str, port: int, service: str, routes: dict[tuple[str, str], Route]) -> ThreadingHTTPServer:
    """A threaded JSON server. Routes take the parsed body and return (status, JSON body)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _handle(self, method: str) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if method == "GET" and path == "/health":
                    self._send(200, {"status": "ok", "service": service})
                    return
                route = routes.get((method, path))
                if route is None:
                    raise HttpError(404, f"no route for {method} {path}")
                status, body = route(self._read_json())
                self._send(status, body)
            except Exception as error:  # noqa: BLE001 - every failure becomes the error envelope
                status = error.status if isinstance(error, HttpError) else 500
                if status >= 500:
                    log_failure(service, method, path, status, str(error))
                data = error.data if isinstance(error, HttpError) else {}
                self._send(status, {"data": data, "error": True, "message": str(error)})

        def _read_json(self) -> dict[str, Any]:
            # No Content-Type check: curl users often forget it, and reading nothing helps nobody.
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise HttpError(413, "request body too large")
            text = self.rfile.read(length).decode("utf-8", errors="replace").strip() if length else ""
            if not text:
                return {}
            try:
                value = json.loads(text)
            except ValueError:
                raise HttpError(400, "request body is not valid JSON") from None
            if not isinstance(value, dict):
                raise HttpError(400, "request body must be a JSON object")
            return value

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
