"""Task hash and performer signature, byte for byte as Othentic's nodes and contracts expect."""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey
from Crypto.Hash import keccak


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 32)


def hex_to_bytes(value: str) -> bytes:
    if not value.startswith(("0x", "0X")):
        raise ValueError(f"expected 0x-prefixed hex, got {value!r}")
    return bytes.fromhex(value[2:])


def task_hash(proof_of_task: str, data: str, performer: str, task_definition_id: int) -> str:
    """keccak256(abi.encode(string proofOfTask, bytes data, address performer, uint16 taskDefinitionId))."""
    proof = proof_of_task.encode("utf-8")
    payload = hex_to_bytes(data)
    address = hex_to_bytes(performer)
    if len(address) != 20:
        raise ValueError(f"performer must be a 20-byte address, got {performer!r}")
    if not 0 <= task_definition_id <= 0xFFFF:
        raise ValueError("taskDefinitionId must fit in uint16")
    proof_tail = _word(len(proof)) + _padded(proof)
    data_tail = _word(len(payload)) + _padded(payload)
    head = _word(4 * 32) + _word(4 * 32 + len(proof_tail)) + address.rjust(32, b"\0") + _word(task_definition_id)
    return "0x" + keccak256(head + proof_tail + data_tail).hex()


def normalize_private_key(value: str) -> bytes:
    text = value.strip().removeprefix("0x").removeprefix("0X").lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError("PRIVATE_KEY_PERFORMER must be 32 bytes of hex")
    return bytes.fromhex(text)


def to_checksum_address(address: bytes) -> str:
    """EIP-55 mixed-case form."""
    lower = address.hex()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def address_of(private_key: bytes) -> str:
    public = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak256(public)[-20:])


def sign_ecdsa(hash_hex: str, private_key: bytes) -> str:
    """A raw signature r || s || v (v = 27 or 28) over the 32-byte hash, no EIP-191 prefix."""
    signature = PrivateKey(private_key).sign_recoverable(hex_to_bytes(hash_hex), hasher=None)
    return "0x" + (signature[:64] + bytes([signature[64] + 27])).hex()


def recover_address(hash_hex: str, signature_hex: str) -> str:
    """The address that produced a raw signature, as ecrecover computes it."""
    signature = hex_to_bytes(signature_hex)
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise ValueError("expected a 65-byte signature with v = 27 or 28")
    recoverable = signature[:64] + bytes([signature[64] - 27])
    public = PublicKey.from_signature_and_message(recoverable, hex_to_bytes(hash_hex), hasher=None)
    return to_checksum_address(keccak256(public.format(compressed=False)[1:])[-20:])
