"""The execution service: POST /task/execute and GET /health."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from typing import Any, Mapping

from httputil import HttpError, load_env_files, make_server
from rpc import SendTaskUnanswered, send_task
from settings import ExecutionSettings, load_execution_settings, parse_chain_id, parse_task_definition_id
from signing import sign_ecdsa, task_hash
from task import perform_task


def execute_task(body: dict[str, Any], settings: ExecutionSettings, env: Mapping[str, str]) -> dict[str, Any]:
    """Runs the task, signs its hash as the performer and sends it to the aggregator.

    A failed sendTask is an error (HTTP 500), so a caller never mistakes an unsent task for a sent one.
    An aggregator that already has the task (TASK_KNOWN) is a success marked "known". A sendTask that
    got no answer hands the signed task back in the error's "data".
    """
    try:
        task_definition_id = settings.task_definition_id
        if body.get("taskDefinitionId") is not None:
            task_definition_id = parse_task_definition_id(body["taskDefinitionId"])
        signature_type = body.get("signatureType", "ecdsa")
        if signature_type != "ecdsa":
            raise ValueError(f'signatureType must be "ecdsa" (this Python service has no BLS), got {signature_type!r}')
        target_chain_id = None
        if body.get("targetChainId") is not None:
            target_chain_id = parse_chain_id(body["targetChainId"])
    except ValueError as error:
        raise HttpError(400, str(error)) from None

    proof = perform_task(body, env)
    performer = settings.performer_address
    digest = task_hash(proof["proofOfTask"], proof["data"], performer, task_definition_id)
    signature = sign_ecdsa(digest, settings.private_key)
    params: list[Any] = [proof["proofOfTask"], proof["data"], task_definition_id, performer, signature, "ecdsa"]
    if target_chain_id is not None:
        params.append(target_chain_id)
    try:
        outcome = send_task(settings.rpc_url, params, settings.send_task_timeout)
    except SendTaskUnanswered as error:
        # No answer: the aggregator may have taken the task. The caller gets the task signed, to send
        # again as that very task (the aggregator takes it once); another execution would be a new one.
        raise HttpError(500, str(error), data={"taskHash": digest, "sendTaskParams": params}) from error
    result: dict[str, Any] = {
        "proofOfTask": proof["proofOfTask"],
        "data": proof["data"],
        "taskDefinitionId": task_definition_id,
        "performer": performer,
        "signatureType": "ecdsa",
        "taskHash": digest,
    }
    if outcome.known:
        result["known"] = True
    log_task_sent(env, result)
    return result


def log_task_sent(env: Mapping[str, str], result: dict[str, Any]) -> None:
    """One line per task sent, with its hash, so `avsctl devnet logs --task <hash>` finds it (JSON when LOG_FORMAT=json)."""
    known = result.get("known") is True
    if env.get("LOG_FORMAT") == "json":
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(), "level": "info", "msg": "task sent",
                           "taskHash": result["taskHash"], "taskDefinitionId": result["taskDefinitionId"], "known": known})
    else:
        line = f"task sent: taskHash={result['taskHash']} taskDefinitionId={result['taskDefinitionId']}{' (known)' if known else ''}"
    print(line, flush=True)


def create_server(settings: ExecutionSettings, env: Mapping[str, str], host: str | None = None, port: int | None = None) -> ThreadingHTTPServer:
    def execute(body: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"data": execute_task(body, settings, env), "error": False, "message": None}

    return make_server(
        settings.host if host is None else host,
        settings.port if port is None else port,
        "execution",
        {("POST", "/task/execute"): execute},
    )


def main() -> None:
    # The project's .env first, then the service's own; variables already set always win.
    load_env_files(["../.env", ".env"])
    try:
        settings = load_execution_settings(os.environ)
    except ValueError as error:
        print(f"execution service: {error}", file=sys.stderr)
        sys.exit(1)
    server = create_server(settings, os.environ)
    port = server.server_address[1]
    print(f"execution service listening on http://{settings.host}:{port} (performer {settings.performer_address})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
