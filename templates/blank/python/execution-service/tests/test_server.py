import json
import threading
import urllib.error
import urllib.request

import pytest
from fake_aggregator import FakeAggregator, expect_signed_task_handed_back

from httputil import HttpError
from server import create_server
from settings import load_execution_settings
from signing import recover_address, task_hash
from task import next_round, perform_task

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


def data_of(proof):
    return json.loads(bytes.fromhex(proof["data"][2:]))


def test_task_turns_its_input_into_the_proof_and_carries_it_with_its_round_as_data():
    proof = perform_task({"input": "abc"}, {})
    assert proof["proofOfTask"] == "abc"
    data = data_of(proof)
    assert list(data) == ["input", "round"] and data["input"] == "abc"
    assert isinstance(data["round"], int) and data["round"] > 0
    with pytest.raises(HttpError):
        perform_task({"input": ""}, {})


def test_two_executions_of_the_same_input_are_two_tasks_in_increasing_rounds():
    first, second = perform_task({}, {}), perform_task({}, {})
    assert first["proofOfTask"] == second["proofOfTask"] and first["data"] != second["data"]
    assert data_of(second)["round"] > data_of(first)["round"]


def test_rounds_increase_by_at_least_one_and_never_fall_behind_the_clock():
    first = next_round()
    assert next_round(0) == first + 1
    assert next_round(first + 1000) == first + 1000
    assert next_round(first) == first + 1001


def test_execute_signs_and_sends_the_task(setup):
    url, aggregator = setup
    status, body = post(url + "/task/execute", {"input": "hello world"})
    assert status == 200 and body["error"] is False and body["message"] is None
    assert body["data"]["proofOfTask"] == "hello world" and body["data"]["taskDefinitionId"] == 1
    params = aggregator.send_tasks[-1]
    assert params[:4] == ["hello world", body["data"]["data"], 1, PERFORMER] and params[5] == "ecdsa"
    assert recover_address(task_hash("hello world", body["data"]["data"], PERFORMER, 1), params[4]) == PERFORMER


def test_task_the_aggregator_already_has_is_a_success_marked_known():
    knowing = FakeAggregator(task_known="pending")
    env = {"OTHENTIC_CLIENT_RPC_ADDRESS": knowing.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY}
    server = create_server(load_execution_settings(env), env, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, body = post(f"http://127.0.0.1:{server.server_address[1]}/task/execute", {"taskDefinitionId": 1, "input": "abc"})
        assert status == 200 and body["error"] is False and body["message"] is None
        assert body["data"]["known"] is True and body["data"]["proofOfTask"] == "abc"
        assert len(knowing.send_tasks) == 1
    finally:
        server.shutdown()
        server.server_close()
        knowing.close()


def test_an_aggregator_that_cuts_send_task_mid_request_is_a_500_handing_back_the_task_it_signed():
    cutting = FakeAggregator(cut_send_task=True)
    env = {"OTHENTIC_CLIENT_RPC_ADDRESS": cutting.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY}
    server = create_server(load_execution_settings(env), env, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        expect_signed_task_handed_back(f"http://127.0.0.1:{server.server_address[1]}", cutting, {"taskDefinitionId": 1, "input": "abc"})
    finally:
        server.shutdown()
        server.server_close()
        cutting.close()


def test_health(setup):
    url, _ = setup
    with urllib.request.urlopen(url + "/health", timeout=10) as response:
        assert response.status == 200
