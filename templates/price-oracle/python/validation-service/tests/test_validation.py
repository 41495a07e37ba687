import json
import threading
import urllib.error
import urllib.request

import pytest
from ipfs_stand_in import StandInIpfs
from price_feed import PriceFeed

from ipfs import looks_like_cid, pin_json
from price import build_report, decode_report, report_data
from server import create_server

PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class Running:
    def __init__(self, env):
        self.server = create_server(env, host="127.0.0.1", port=0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def feed():
    feed = PriceFeed({"ETHUSDT": "3000.00"})
    yield feed
    feed.close()


@pytest.fixture(scope="module")
def pinata():
    # Stands in for Pinata (pinning API and gateway), on 127.0.0.1.
    pinata = StandInIpfs()
    yield pinata
    pinata.close()


@pytest.fixture(scope="module")
def service(feed, pinata):
    running = Running({"PRICE_SOURCE_URL": feed.url, "PRICE_TOLERANCE_BPS": "100", **pinata.env})
    yield running.url
    running.close()


def post(url, body, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url + "/task/validate", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def request(proof_of_task, data):
    return {"proofOfTask": proof_of_task, "data": data, "taskDefinitionId": 1, "performer": PERFORMER}


def pinned(pinata, price, symbol="ETHUSDT", round_number=1, timestamp=1):
    """What an honest execution service sends: the CID of the pinned report, and the report as data."""
    report = build_report(price, round_number, symbol, timestamp)
    return request(pin_json(pinata.env, report, f"price-report-{round_number}"), report_data(report))


APPROVED = (200, {"data": True, "error": False, "message": None})
REJECTED = (200, {"data": False, "error": False, "message": None})


def test_pinned_honest_report_is_approved(service, pinata):
    assert post(service, pinned(pinata, "3010.5")) == APPROVED


def test_without_data_the_pinned_report_alone_is_checked(service, pinata):
    assert post(service, {**pinned(pinata, "3010.5"), "data": None}) == APPROVED
    assert post(service, {**pinned(pinata, "3100"), "data": None}) == REJECTED


def test_price_outside_tolerance_is_rejected(service, pinata):
    assert post(service, pinned(pinata, "3030.01")) == REJECTED


def test_unknown_cid_is_rejected(service, pinata):
    honest = pinned(pinata, "3000.00")
    unknown = "Qm" + "1" * 44
    assert post(service, {**honest, "proofOfTask": unknown}) == REJECTED


@pytest.mark.parametrize("proof", ["0x" + "ab" * 32, "", "Qm123", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff50", None, 7])
def test_proof_that_is_not_a_cid_is_rejected(service, pinata, proof):
    assert post(service, {**pinned(pinata, "3000.00"), "proofOfTask": proof}) == REJECTED


def test_cid_shapes():
    assert looks_like_cid("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
    assert looks_like_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
    assert not looks_like_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdI")
    assert not looks_like_cid("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/x")


def test_missing_or_null_data_is_not_given(service, pinata):
    honest = pinned(pinata, "3000.00")
    without = {key: value for key, value in honest.items() if key != "data"}
    assert post(service, without) == APPROVED
    assert post(service, {**honest, "data": None}) == APPROVED


@pytest.mark.parametrize("data", ["", "0x"])
def test_empty_data_is_given_and_rejected_without_asking_the_gateway(feed, data):
    pinata = StandInIpfs()
    try:
        honest = pinned(pinata, "3000.00")
        assert post_to_new_service(feed, pinata, {**honest, "data": data}) == REJECTED
        # Were the gateway asked, a failing one would make this a 500; empty data is a verdict.
        pinata.fail_gateway = 503
        assert post_to_new_service(feed, pinata, {**honest, "data": data}) == REJECTED
    finally:
        pinata.close()


def post_to_new_service(feed, pinata, body):
    running = Running({"PRICE_SOURCE_URL": feed.url, **pinata.env})
    try:
        return post(running.url, body)
    finally:
        running.close()


@pytest.mark.parametrize("code", [408, 429])
def test_gateway_timeout_or_rate_limit_is_500_not_a_vote(feed, code):
    pinata = StandInIpfs()
    try:
        honest = pinned(pinata, "3000.00")
        pinata.fail_gateway = code
        status, body = post_to_new_service(feed, pinata, honest)
        assert status == 500
        assert body["error"] is True and body["data"] == {} and f"HTTP {code}" in body["message"]
    finally:
        pinata.close()


@pytest.mark.parametrize("code", [400, 403, 404, 410])
def test_gateway_other_4xx_is_a_rejection(feed, code):
    pinata = StandInIpfs()
    try:
        honest = pinned(pinata, "3000.00")
        pinata.fail_gateway = code
        assert post_to_new_service(feed, pinata, honest) == REJECTED
    finally:
        pinata.close()


def test_content_not_matching_data_is_rejected(service, pinata):
    honest = pinned(pinata, "3000.00", round_number=5)
    other = pinned(pinata, "3000.01", round_number=5)
    # Both are honest reports, each pinned; paired crosswise, the content is not the data.
    assert post(service, {**honest, "data": other["data"]}) == REJECTED
    assert post(service, {**other, "data": honest["data"]}) == REJECTED


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'["3000.00", 1, "ETHUSDT", 1]',
        b'{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1,"extra":1}',
        b'{"price":3000,"round":1,"symbol":"ETHUSDT","timestamp":1}',
        b'{"price":"3000.00","round":1.0,"symbol":"ETHUSDT","timestamp":1}',
        b'{"price":"3000.00","symbol":"ETHUSDT","timestamp":1}',
    ],
)
def test_content_that_is_not_a_report_is_rejected(service, pinata, content):
    assert post(service, request(pinata.put(content), None)) == REJECTED


def test_content_in_another_json_form_is_the_same_report(service, pinata):
    # The gateway serves the document as the pinning service wrote it; what counts is the report.
    report = build_report("3000.00", 2, "ETHUSDT", 1)
    spaced = json.dumps({"timestamp": 1, "symbol": "ETHUSDT", "round": 2, "price": "3000.00"}, indent=2).encode()
    assert post(service, request(pinata.put(spaced), report_data(report))) == APPROVED


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
def test_non_canonical_data_is_rejected_even_when_pinned_under_the_cid(service, pinata, text):
    raw = text.encode()
    assert decode_report("0x" + raw.hex()) is None
    assert post(service, request(pinata.put(raw), "0x" + raw.hex())) == REJECTED
    # Also next to a valid report's CID.
    assert post(service, {**pinned(pinata, "3000.00"), "data": "0x" + raw.hex()}) == REJECTED


def test_missing_fields_are_a_rejection(service):
    assert post(service, {"taskDefinitionId": 1})[1]["data"] is False


def test_gateway_down_is_500_not_a_vote(feed, pinata):
    honest = pinned(pinata, "3000.00")
    failing = StandInIpfs(fail_gateway=502)
    gone = StandInIpfs()
    gone.close()  # nothing listens there any more
    try:
        for ipfs in (gone, failing):
            running = Running({"PRICE_SOURCE_URL": feed.url, **ipfs.env})
            try:
                status, body = post(running.url, honest)
            finally:
                running.close()
            assert status == 500
            assert body["error"] is True and body["data"] == {} and "IPFS gateway" in body["message"]
    finally:
        failing.close()


def test_price_source_down_is_500_not_a_vote(service, pinata):
    status, body = post(service, pinned(pinata, "1", symbol="UNKNOWN"))
    assert status == 500
    assert body["error"] is True and body["data"] == {} and "price source" in body["message"]


def test_body_that_is_not_json_is_400(service):
    assert post(service, None, raw=b"not json")[0] == 400


def test_health(service):
    with urllib.request.urlopen(service + "/health", timeout=10) as response:
        assert response.status == 200
