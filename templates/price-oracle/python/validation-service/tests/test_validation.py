import json
import threading
import urllib.error
import urllib.request

import pytest
from price_feed import PriceFeed

from price import build_proof, decode_report, keccak_hex
from server import create_server

PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture(scope="module")
def service():
    feed = PriceFeed({"ETHUSDT": "3000.00"})
    server = create_server({"PRICE_SOURCE_URL": feed.url, "PRICE_TOLERANCE_BPS": "100"}, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    feed.close()


def post(url, body, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url + "/task/validate", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def request(proof):
    return {**proof, "taskDefinitionId": 1, "performer": PERFORMER}


def test_correct_proof_is_approved(service):
    assert post(service, request(build_proof("3010.5", 1, "ETHUSDT", 1))) == (200, {"data": True, "error": False, "message": None})


def test_price_outside_tolerance_is_rejected(service):
    assert post(service, request(build_proof("3030.01", 1, "ETHUSDT", 1))) == (200, {"data": False, "error": False, "message": None})


def test_digest_not_matching_data_is_rejected(service):
    proof = build_proof("3000.00", 1, "ETHUSDT", 1)
    last = "1" if proof["proofOfTask"].endswith("0") else "0"
    status, body = post(service, request({**proof, "proofOfTask": proof["proofOfTask"][:-1] + last}))
    assert (status, body["data"]) == (200, False)


@pytest.mark.parametrize(
    "text",
    [
        '{"price": "3000.00", "round": 1, "symbol": "ETHUSDT", "timestamp": 1}',
        '{"round":1,"price":"3000.00","symbol":"ETHUSDT","timestamp":1}',
        '{"price":3000,"round":1,"symbol":"ETHUSDT","timestamp":1}',
        '{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1,"extra":1}',
        '{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":true}',
        '{"price":"3000.00","round":1.0,"symbol":"ETHUSDT","timestamp":1}',
        '{"price":"3000.00","round":-1,"symbol":"ETHUSDT","timestamp":1}',
        '{"price":"3000.00","round":"1","symbol":"ETHUSDT","timestamp":1}',
        # Without a round: the report of a template older than the round rule.
        '{"price":"3000.00","symbol":"ETHUSDT","timestamp":1}',
    ],
)
def test_non_canonical_data_is_rejected_even_with_a_matching_digest(service, text):
    raw = text.encode()
    assert decode_report("0x" + raw.hex()) is None
    status, body = post(service, request({"proofOfTask": keccak_hex(raw), "data": "0x" + raw.hex()}))
    assert (status, body["data"]) == (200, False)


def test_missing_fields_are_a_rejection(service):
    assert post(service, {"taskDefinitionId": 1})[1]["data"] is False


def test_price_source_down_is_500_not_a_vote(service):
    status, body = post(service, request(build_proof("1", 1, "UNKNOWN", 1)))
    assert status == 500
    assert body["error"] is True and body["data"] == {} and "price source" in body["message"]


def test_body_that_is_not_json_is_400(service):
    assert post(service, None, raw=b"not json")[0] == 400


def test_health(service):
    with urllib.request.urlopen(service + "/health", timeout=10) as response:
        assert response.status == 200
