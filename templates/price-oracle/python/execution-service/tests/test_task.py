import pytest
from price_feed import PriceFeed

from httputil import HttpError
from price import build_proof, canonical_json, decode_report, keccak_hex, next_round, price_url, within_tolerance
from task import perform_task

# The same report gives the same bytes in the TypeScript, Python and Go templates.
KNOWN_PROOF = {
    "proofOfTask": "0xab4ae797cfcdaf9d4fd1b871ed128aaec7651d8a67dfbd98e749567aa2aa9600",
    "data": "0x7b227072696365223a22333030302e3132222c22726f756e64223a313730303030303030303030302c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d",
}


@pytest.fixture(scope="module")
def feed():
    feed = PriceFeed({"ETHUSDT": "3000.12", "BTCUSDT": "65000"})
    yield feed
    feed.close()


def test_canonical_json_has_fixed_keys_and_no_whitespace():
    text = canonical_json("3000.12", 1700000000000, "ETHUSDT", 1700000000)
    assert text == '{"price":"3000.12","round":1700000000000,"symbol":"ETHUSDT","timestamp":1700000000}'


def test_proof_matches_the_other_languages():
    assert build_proof("3000.12", 1700000000000, "ETHUSDT", 1700000000) == KNOWN_PROOF
    assert KNOWN_PROOF["proofOfTask"] == keccak_hex(bytes.fromhex(KNOWN_PROOF["data"][2:]))


def test_rounds_increase_by_at_least_one_and_never_fall_behind_the_clock():
    first = next_round()
    assert first > 1_600_000_000_000
    assert next_round(0) == first + 1
    assert next_round(first + 1000) == first + 1000
    assert next_round(first) == first + 1001


def test_perform_task_fetches_and_proves(feed):
    proof = perform_task({"symbol": "BTCUSDT"}, {"PRICE_SOURCE_URL": feed.url})
    report = decode_report(proof["data"])
    assert report is not None and isinstance(report["round"], int) and report["round"] > 0
    assert {**report, "round": 0} == {"price": "65000", "round": 0, "symbol": "BTCUSDT", "timestamp": 1700000000}


def test_perform_task_uses_price_symbol(feed):
    proof = perform_task({}, {"PRICE_SOURCE_URL": feed.url, "PRICE_SYMBOL": "ETHUSDT"})
    report = decode_report(proof["data"])
    assert report is not None and report["price"] == "3000.12" and report["symbol"] == "ETHUSDT"


def test_two_executions_over_the_same_quote_are_two_tasks_in_increasing_rounds(feed):
    first = perform_task({}, {"PRICE_SOURCE_URL": feed.url})
    second = perform_task({}, {"PRICE_SOURCE_URL": feed.url})
    assert first["data"] != second["data"] and first["proofOfTask"] != second["proofOfTask"]
    a, b = decode_report(first["data"]), decode_report(second["data"])
    assert a is not None and b is not None and b["round"] > a["round"]
    assert {**b, "round": a["round"]} == a


def test_bad_symbol_is_bad_input_and_unknown_symbol_a_source_error(feed):
    with pytest.raises(HttpError) as error:
        perform_task({"symbol": "ETH USD"}, {"PRICE_SOURCE_URL": feed.url})
    assert error.value.status == 400
    with pytest.raises(RuntimeError, match="HTTP 404"):
        perform_task({"symbol": "NOPE"}, {"PRICE_SOURCE_URL": feed.url})


def test_tolerance_is_exact_decimal_arithmetic():
    assert within_tolerance("101", "100", 100)
    assert not within_tolerance("101.01", "100", 100)
    assert within_tolerance("99.000", "100", 100)
    assert within_tolerance("3000.12000000", "3000.12", 0)
    assert price_url("http://x/p?a=1", "ETHUSDT") == "http://x/p?a=1&symbol=ETHUSDT"
