import json
import threading
import urllib.error
import urllib.request

import pytest
from fake_aggregator import FakeAggregator, expect_signed_task_handed_back
from ipfs_stand_in import StandInIpfs
from price_feed import PriceFeed

from ipfs import looks_like_cid
from price import decode_report
from server import create_server
from settings import load_execution_settings
from signing import recover_address, task_hash

# A well-known development key (anvil's account 1); never use it for anything real.
PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class Running:
    def __init__(self, env):
        self.server = create_server(load_execution_settings(env), env, host="127.0.0.1", port=0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def post(self, path, body):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def setup():
    feed = PriceFeed({"ETHUSDT": "3000.5"})
    aggregator = FakeAggregator()
    pinata = StandInIpfs()  # stands in for Pinata: pinning API and gateway on 127.0.0.1
    env = {"OTHENTIC_CLIENT_RPC_ADDRESS": aggregator.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PRICE_SOURCE_URL": feed.url, **pinata.env}
    running = Running(env)
    yield running, aggregator, feed, pinata
    running.close()
    aggregator.close()
    pinata.close()
    feed.close()


def test_health(setup):
    running, _, _, _ = setup
    with urllib.request.urlopen(running.url + "/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


def test_execute_pins_the_report_and_sends_the_signed_task_with_its_cid(setup):
    running, aggregator, _, pinata = setup
    before = len(aggregator.send_tasks)
    status, body = running.post("/task/execute", {"symbol": "ETHUSDT", "taskDefinitionId": 2, "targetChainId": 31338})
    assert status == 200
    assert body["error"] is False and body["message"] is None
    data = body["data"]
    params = aggregator.send_tasks[before]
    assert params[:4] == [data["proofOfTask"], data["data"], 2, PERFORMER]
    assert params[5:] == ["ecdsa", 31338]
    assert recover_address(task_hash(data["proofOfTask"], data["data"], PERFORMER, 2), params[4]) == PERFORMER
    assert "known" not in data
    assert looks_like_cid(data["proofOfTask"])
    assert pinata.content[data["proofOfTask"]] == bytes.fromhex(data["data"][2:])
    assert decode_report(data["data"])["price"] == "3000.5"


def test_two_executions_send_two_distinct_tasks(setup):
    running, aggregator, _, _ = setup
    before = len(aggregator.send_tasks)
    first = running.post("/task/execute", {"symbol": "ETHUSDT"})
    second = running.post("/task/execute", {"symbol": "ETHUSDT"})
    assert first[0] == 200 and second[0] == 200
    assert first[1]["data"]["taskHash"] != second[1]["data"]["taskHash"]
    assert len(aggregator.send_tasks) == before + 2


def test_task_the_aggregator_already_has_is_a_success_marked_known(setup):
    _, _, feed, pinata = setup
    knowing = FakeAggregator(task_known="approved")
    other = Running({"OTHENTIC_CLIENT_RPC_ADDRESS": knowing.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PRICE_SOURCE_URL": feed.url, **pinata.env})
    try:
        status, body = other.post("/task/execute", {"taskDefinitionId": 1, "symbol": "ETHUSDT"})
        assert status == 200 and body["error"] is False and body["message"] is None
        assert body["data"]["known"] is True and body["data"]["taskDefinitionId"] == 1
        assert knowing.send_tasks[0][:3] == [body["data"]["proofOfTask"], body["data"]["data"], 1]
    finally:
        other.close()
        knowing.close()


def test_an_aggregator_that_cuts_send_task_mid_request_is_a_500_handing_back_the_task_it_signed(setup):
    _, _, feed, pinata = setup
    cutting = FakeAggregator(cut_send_task=True)
    other = Running({"OTHENTIC_CLIENT_RPC_ADDRESS": cutting.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PRICE_SOURCE_URL": feed.url, **pinata.env})
    try:
        expect_signed_task_handed_back(other.url, cutting, {"taskDefinitionId": 1, "symbol": "ETHUSDT"})
    finally:
        other.close()
        cutting.close()


def test_bad_input_is_400_and_nothing_is_sent(setup):
    running, aggregator, _, _ = setup
    before = len(aggregator.send_tasks)
    for body in ({"taskDefinitionId": 70000}, {"signatureType": "bls"}, {"symbol": ""}):
        status, answer = running.post("/task/execute", body)
        assert status == 400
        assert answer["error"] is True and answer["data"] == {}
    assert len(aggregator.send_tasks) == before


def test_aggregator_error_is_500_naming_send_task(setup, capsys):
    _, _, feed, pinata = setup
    failing = FakeAggregator(send_task_error="invalid performer")
    other = Running({"OTHENTIC_CLIENT_RPC_ADDRESS": failing.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PRICE_SOURCE_URL": feed.url, **pinata.env})
    try:
        status, answer = other.post("/task/execute", {})
        assert status == 500
        assert "sendTask failed: invalid performer" in answer["message"]
        # the service's log says so too, where a caller's error points
        assert "execution: POST /task/execute failed (500): sendTask failed: invalid performer" in capsys.readouterr().err
    finally:
        other.close()
        failing.close()


def test_pin_failure_is_502_and_nothing_is_sent(setup):
    _, aggregator, feed, _ = setup
    pinata = StandInIpfs(fail_pins=503)
    other = Running({"OTHENTIC_CLIENT_RPC_ADDRESS": aggregator.url, "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PRICE_SOURCE_URL": feed.url, **pinata.env})
    before = len(aggregator.send_tasks)
    try:
        status, answer = other.post("/task/execute", {"symbol": "ETHUSDT"})
        assert status == 502
        assert answer["error"] is True and answer["data"] == {}
        assert "storing the report on IPFS failed" in answer["message"] and "HTTP 503" in answer["message"]
        assert len(pinata.pins) == 1 and len(aggregator.send_tasks) == before
    finally:
        other.close()
        pinata.close()


def test_settings_name_the_missing_variable():
    with pytest.raises(ValueError, match="OTHENTIC_CLIENT_RPC_ADDRESS"):
        load_execution_settings({"PRIVATE_KEY_PERFORMER": PRIVATE_KEY})
    with pytest.raises(ValueError, match="PRIVATE_KEY_PERFORMER"):
        load_execution_settings({"OTHENTIC_CLIENT_RPC_ADDRESS": "http://x"})
    with pytest.raises(ValueError, match="PERFORMER_ADDRESS"):
        load_execution_settings({"OTHENTIC_CLIENT_RPC_ADDRESS": "http://x", "PRIVATE_KEY_PERFORMER": PRIVATE_KEY, "PERFORMER_ADDRESS": "0x1234"})
