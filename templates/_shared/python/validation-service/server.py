"""The validation service the attesters call: POST /task/validate and GET /health."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from typing import Any, Mapping

from httputil import env_value, load_env_files, make_server, port_from
from validate import validate_task


def log_task_validated(env: Mapping[str, str], body: dict[str, Any], approved: bool) -> None:
    """One line per task validated, with the hash avsctl's attesters send along (taskHash), so
    `avsctl devnet logs --task <hash>` finds it (JSON when LOG_FORMAT=json)."""
    task_hash = body.get("taskHash") if isinstance(body.get("taskHash"), str) else None
    if env.get("LOG_FORMAT") == "json":
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(), "level": "info", "msg": "task validated",
                           "taskHash": task_hash, "taskDefinitionId": body.get("taskDefinitionId"), "approved": approved})
    else:
        line = f"task validated: taskHash={task_hash or '-'} taskDefinitionId={body.get('taskDefinitionId')} approved={'true' if approved else 'false'}"
    print(line, flush=True)


def create_server(env: Mapping[str, str], host: str = "0.0.0.0", port: int = 4002) -> ThreadingHTTPServer:
    """Answers {"data": true|false, "error": false, "message": null}; when the service cannot
    decide (its own source is down, say) it answers HTTP 500 {"error": true, "message", "data": {}}
    rather than a false that would count as a vote against a correct task."""

    def validate(body: dict[str, Any]) -> tuple[int, Any]:
        request = {key: body.get(key) for key in ("proofOfTask", "data", "taskDefinitionId", "performer")}
        approved = bool(validate_task(request, env))
        log_task_validated(env, body, approved)
        return 200, {"data": approved, "error": False, "message": None}

    return make_server(host, port, "validation", {("POST", "/task/validate"): validate})


def main() -> None:
    # The project's .env first, then the service's own; variables already set always win.
    load_env_files(["../.env", ".env"])
    try:
        port = port_from(os.environ, "VALIDATION_PORT", 4002)
    except ValueError as error:
        print(f"validation service: {error}", file=sys.stderr)
        sys.exit(1)
    host = env_value(os.environ, "HOST") or "0.0.0.0"
    server = create_server(os.environ, host, port)
    print(f"validation service listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
