import json
import threading
import urllib.request

import pytest

from server import create_server


@pytest.fixture(scope="module")
def service():
    server = create_server({}, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def post(url, body):
    request = urllib.request.Request(url + "/task/validate", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_non_empty_proof_is_approved(service):
    assert post(service, {"proofOfTask": "hello", "data": "0x", "taskDefinitionId": 1, "performer": "0x"}) == {
        "data": True,
        "error": False,
        "message": None,
    }


def test_empty_or_missing_proof_is_rejected(service):
    assert post(service, {"proofOfTask": ""})["data"] is False
    assert post(service, {})["data"] is False
