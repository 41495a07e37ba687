import pytest

from signing import address_of, normalize_private_key, recover_address, sign_ecdsa, task_hash

# A well-known development key (anvil's account 1); never use it for anything real.
KEY = normalize_private_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

# Checked against Othentic's contracts (shared with the TypeScript template's BLS vector).
VECTOR_TASK = ("QmTest", "0x3132332e3435", "0x2222222222222222222222222222222222222222", 0)
VECTOR_HASH = "0xe46401d3d7e425f047ffafb58d428790de8ca50c6dd9527ef7b080882fc4fe6e"


def test_task_hash_is_keccak_of_abi_encoded_task():
    assert task_hash(*VECTOR_TASK) == VECTOR_HASH


def test_address_of_key():
    assert address_of(KEY) == PERFORMER


def test_ecdsa_signature_is_raw_deterministic_and_recovers_the_performer():
    signature = sign_ecdsa(VECTOR_HASH, KEY)
    # RFC 6979 makes the signature deterministic: this is what ethers' SigningKey.sign produces.
    assert signature == (
        "0x201af2d6b25549cb16e205b130017c61d2436e93055e4a65c7ea09957c2070f3"
        "7fa69ce6a71fa1969a6fe2aea3369f76f7006b872c98574abf1b7c7213d1768e1b"
    )
    assert recover_address(VECTOR_HASH, signature) == PERFORMER


def test_malformed_private_key_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        normalize_private_key("0x1234")
