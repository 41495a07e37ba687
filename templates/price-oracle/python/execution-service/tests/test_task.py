import pytest
from price_feed import PriceFeed

from httputil import HttpError
from price import build_proof, canonical_json, decode_report, keccak_hex, price_url, within_tolerance
from task import perform_task

# The same report gives the same bytes in the TypeScript, Python and Go templates.
KNOWN_PROOF = {
    "proofOfTask": "0x276d17989b1610446cb63dae725f38d770f1bd63eac9cd07548bbc8f2302e391",
    "data": "0x7b227072696365223a22333030302e3132222c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d",
}


@pytest.fixture(scope="module")
def feed():
    feed = PriceFeed({"ETHUSDT": "3000.12", "BTCUSDT": "65000"})
    yield feed
    feed.close()


def test_canonical_json_has_fixed_keys_and_no_whitespace():
    assert canonical_json("3000.12", "ETHUSDT", 1700000000) == '{"price":"3000.12","symbol":"ETHUSDT","timestamp":1700000000}'


def test_proof_matches_the_other_languages():
    assert build_proof("3000.12", "ETHUSDT", 1700000000) == KNOWN_PROOF
    assert KNOWN_PROOF["proofOfTask"] == keccak_hex(bytes.fromhex(KNOWN_PROOF["data"][2:]))


def test_perform_task_fetches_and_proves(feed):
    proof = perform_task({"symbol": "BTCUSDT"}, {"PRICE_SOURCE_URL": feed.url})
    assert decode_report(proof["data"]) == {"price": "65000", "symbol": "BTCUSDT", "timestamp": 1700000000}


def test_perform_task_uses_price_symbol(feed):
    proof = perform_task({}, {"PRICE_SOURCE_URL": feed.url, "PRICE_SYMBOL": "ETHUSDT"})
    assert proof == KNOWN_PROOF


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
