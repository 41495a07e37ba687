import json

import pytest
from ipfs_stand_in import StandInIpfs
from price_feed import PriceFeed

from httputil import HttpError
from ipfs import fetch_content, looks_like_cid, pin_json
from price import build_report, canonical_json, decode_report, next_round, price_url, report_data, within_tolerance
from task import perform_task

# The same report gives the same bytes in the TypeScript, Python and Go templates.
KNOWN_DATA = "0x7b227072696365223a22333030302e3132222c22726f756e64223a313730303030303030303030302c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d"


@pytest.fixture(scope="module")
def feed():
    feed = PriceFeed({"ETHUSDT": "3000.12", "BTCUSDT": "65000"})
    yield feed
    feed.close()


@pytest.fixture(scope="module")
def pinata():
    # Stands in for Pinata (pinning API and gateway), on 127.0.0.1.
    pinata = StandInIpfs()
    yield pinata
    pinata.close()


@pytest.fixture
def env(feed, pinata):
    return {"PRICE_SOURCE_URL": feed.url, **pinata.env}


def test_canonical_json_has_fixed_keys_and_no_whitespace():
    text = canonical_json("3000.12", 1700000000000, "ETHUSDT", 1700000000)
    assert text == '{"price":"3000.12","round":1700000000000,"symbol":"ETHUSDT","timestamp":1700000000}'


def test_data_matches_the_other_languages():
    report = build_report("3000.12", 1700000000000, "ETHUSDT", 1700000000)
    assert list(report) == ["price", "round", "symbol", "timestamp"]
    assert report_data(report) == KNOWN_DATA
    assert decode_report(KNOWN_DATA) == report
    assert decode_report(KNOWN_DATA.upper().replace("0X", "0x")) == report


def test_rounds_increase_by_at_least_one_and_never_fall_behind_the_clock():
    first = next_round()
    assert first > 1_600_000_000_000
    assert next_round(0) == first + 1
    assert next_round(first + 1000) == first + 1000
    assert next_round(first) == first + 1001


def test_perform_task_pins_the_report_and_the_proof_is_its_cid(env, pinata):
    proof = perform_task({"symbol": "BTCUSDT"}, env)
    report = decode_report(proof["data"])
    assert report is not None and isinstance(report["round"], int) and report["round"] > 0
    assert {**report, "round": 0} == {"price": "65000", "round": 0, "symbol": "BTCUSDT", "timestamp": 1700000000}
    assert looks_like_cid(proof["proofOfTask"])
    pin = pinata.pins[-1]
    assert pin["body"] == {"pinataContent": report, "pinataMetadata": {"name": f"price-report-{report['round']}"}}
    assert pin["authorization"] is None
    # What the gateway serves under the CID is the report in `data`.
    assert pinata.content[proof["proofOfTask"]] == bytes.fromhex(proof["data"][2:])


def test_pinata_jwt_is_sent_as_a_bearer_token(env, pinata):
    perform_task({}, {**env, "PINATA_JWT": "test-jwt"})
    assert pinata.pins[-1]["authorization"] == "Bearer test-jwt"


def test_perform_task_uses_price_symbol(env):
    proof = perform_task({}, {**env, "PRICE_SYMBOL": "ETHUSDT"})
    report = decode_report(proof["data"])
    assert report is not None and report["price"] == "3000.12" and report["symbol"] == "ETHUSDT"


def test_two_executions_over_the_same_quote_are_two_tasks_in_increasing_rounds(env):
    first = perform_task({}, env)
    second = perform_task({}, env)
    assert first["data"] != second["data"] and first["proofOfTask"] != second["proofOfTask"]
    a, b = decode_report(first["data"]), decode_report(second["data"])
    assert a is not None and b is not None and b["round"] > a["round"]
    assert {**b, "round": a["round"]} == a


def test_bad_symbol_is_bad_input_and_unknown_symbol_a_source_error(env):
    with pytest.raises(HttpError) as error:
        perform_task({"symbol": "ETH USD"}, env)
    assert error.value.status == 400
    with pytest.raises(RuntimeError, match="HTTP 404"):
        perform_task({"symbol": "NOPE"}, env)


def test_pin_failure_is_a_502_naming_ipfs(feed):
    failing = StandInIpfs(fail_pins=500)
    try:
        with pytest.raises(HttpError) as error:
            perform_task({}, {"PRICE_SOURCE_URL": feed.url, **failing.env})
        assert error.value.status == 502
        assert "IPFS" in str(error.value) and "HTTP 500" in str(error.value)
    finally:
        failing.close()
    unauthorized = StandInIpfs(fail_pins=401)
    try:
        with pytest.raises(HttpError, match="PINATA_JWT"):
            perform_task({}, {"PRICE_SOURCE_URL": feed.url, **unauthorized.env})
    finally:
        unauthorized.close()
    # Nothing listening at all.
    with pytest.raises(HttpError) as error:
        perform_task({}, {"PRICE_SOURCE_URL": feed.url, **failing.env})
    assert error.value.status == 502 and "unreachable" in str(error.value)


def test_tolerance_is_exact_decimal_arithmetic():
    assert within_tolerance("101", "100", 100)
    assert not within_tolerance("101.01", "100", 100)
    assert within_tolerance("99.000", "100", 100)
    assert within_tolerance("3000.12000000", "3000.12", 0)
    assert price_url("http://x/p?a=1", "ETHUSDT") == "http://x/p?a=1&symbol=ETHUSDT"


def test_a_pinned_report_reads_back_as_the_same_report(pinata):
    report = build_report("1.5", 7, "BTCUSDT", 9)
    cid = pin_json(pinata.env, report, "x")
    assert json.loads(fetch_content(pinata.env, cid)) == report
    assert fetch_content(pinata.env, "Qm" + "1" * 44) is None
