package main

// Task hash and performer signature, byte for byte as Othentic's nodes and contracts expect.

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

func keccak256(parts ...[]byte) []byte {
	hash := sha3.NewLegacyKeccak256()
	for _, part := range parts {
		hash.Write(part)
	}
	return hash.Sum(nil)
}

func decodeHex(value string) ([]byte, error) {
	if !strings.HasPrefix(value, "0x") && !strings.HasPrefix(value, "0X") {
		return nil, fmt.Errorf("expected 0x-prefixed hex, got %q", value)
	}
	return hex.DecodeString(value[2:])
}

func word(n uint64) []byte {
	out := make([]byte, 32)
	binary.BigEndian.PutUint64(out[24:], n)
	return out
}

func padded(data []byte) []byte {
	return append(append([]byte{}, data...), make([]byte, (32-len(data)%32)%32)...)
}

// taskHash is keccak256(abi.encode(string proofOfTask, bytes data, address performer, uint16 taskDefinitionId)).
func taskHash(proofOfTask, data, performer string, taskDefinitionID uint16) (string, error) {
	payload, err := decodeHex(data)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	address, err := decodeHex(performer)
	if err != nil || len(address) != 20 {
		return "", fmt.Errorf("performer must be a 20-byte address, got %q", performer)
	}
	proofTail := append(word(uint64(len(proofOfTask))), padded([]byte(proofOfTask))...)
	dataTail := append(word(uint64(len(payload))), padded(payload)...)
	encoded := append(word(4*32), word(uint64(4*32+len(proofTail)))...)
	encoded = append(encoded, append(make([]byte, 12), address...)...)
	encoded = append(encoded, word(uint64(taskDefinitionID))...)
	encoded = append(append(encoded, proofTail...), dataTail...)
	return "0x" + hex.EncodeToString(keccak256(encoded)), nil
}

// parsePrivateKey accepts 32 bytes of hex with or without 0x.
func parsePrivateKey(value string) (*secp256k1.PrivateKey, error) {
	text := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(value), "0x"), "0X"))
	raw, err := hex.DecodeString(text)
	if err != nil || len(raw) != 32 {
		return nil, errors.New("PRIVATE_KEY_PERFORMER must be 32 bytes of hex")
	}
	return secp256k1.PrivKeyFromBytes(raw), nil
}

// checksumAddress is the EIP-55 mixed-case form.
func checksumAddress(address []byte) string {
	lower := hex.EncodeToString(address)
	digest := hex.EncodeToString(keccak256([]byte(lower)))
	out := []byte(lower)
	for i, c := range out {
		if c >= 'a' && digest[i] >= '8' {
			out[i] = c - 32
		}
	}
	return "0x" + string(out)
}

func addressOfPublicKey(key *secp256k1.PublicKey) string {
	return checksumAddress(keccak256(key.SerializeUncompressed()[1:])[12:])
}

func addressOf(key *secp256k1.PrivateKey) string {
	return addressOfPublicKey(key.PubKey())
}

// signEcdsa is a raw signature r || s || v (v = 27 or 28) over the 32-byte hash, no EIP-191 prefix.
func signEcdsa(hashHex string, key *secp256k1.PrivateKey) (string, error) {
	hash, err := decodeHex(hashHex)
	if err != nil || len(hash) != 32 {
		return "", errors.New("the task hash must be 32 bytes of hex")
	}
	compact := ecdsa.SignCompact(key, hash, false) // [27 + recovery id] || r || s
	return "0x" + hex.EncodeToString(append(compact[1:], compact[0])), nil
}

// recoverAddress is the address that produced a raw signature, as ecrecover computes it.
func recoverAddress(hashHex, signatureHex string) (string, error) {
	hash, err := decodeHex(hashHex)
	if err != nil {
		return "", err
	}
	signature, err := decodeHex(signatureHex)
	if err != nil || len(signature) != 65 || (signature[64] != 27 && signature[64] != 28) {
		return "", errors.New("expected a 65-byte signature with v = 27 or 28")
	}
	key, _, err := ecdsa.RecoverCompact(append([]byte{signature[64]}, signature[:64]...), hash)
	if err != nil {
		return "", err
	}
	return addressOfPublicKey(key), nil
}
