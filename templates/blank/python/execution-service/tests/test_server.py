import json
import threading
import urllib.error
import urllib.request

import pytest
from fake_aggregator import FakeAggregator

from httputil import HttpError
from server import create_server
from settings import load_execution_settings
from signing import recover_address, task_hash
from task import perform_task

# A well-known development key (anvil's account 1); never use it for anything real.
PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture(scope="module")
def setup():
    aggregator = FakeAggregator()
    env = {"OTHENTIC_CLIENT_RPC_ADDRESS": aggregator.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY}
    server = create_server(load_execution_settings(env), env, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", aggregator
    server.shutdown()
    server.server_close()
    aggregator.close()


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_task_turns_its_input_into_the_proof():
    assert perform_task({"input": "abc"}, {}) == {"proofOfTask": "abc", "data": "0x616263"}
    with pytest.raises(HttpError):
        perform_task({"input": ""}, {})


def test_execute_signs_and_sends_the_task(setup):
    url, aggregator = setup
    status, body = post(url + "/task/execute", {"input": "hello world"})
    assert status == 200 and body["error"] is False and body["message"] is None
    assert body["data"]["proofOfTask"] == "hello world" and body["data"]["taskDefinitionId"] == 1
    params = aggregator.send_tasks[-1]
    assert params[:4] == ["hello world", body["data"]["data"], 1, PERFORMER] and params[5] == "ecdsa"
    assert recover_address(task_hash("hello world", body["data"]["data"], PERFORMER, 1), params[4]) == PERFORMER


def test_health(setup):
    url, _ = setup
    with urllib.request.urlopen(url + "/health", timeout=10) as response:
        assert response.status == 200
