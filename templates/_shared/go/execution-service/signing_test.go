package main

import "testing"

// A well-known development key (anvil's account 1); never use it for anything real.
const testPrivateKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
const testPerformer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

// Checked against Othentic's contracts (shared with the TypeScript template's BLS vector).
const vectorHash = "0xe46401d3d7e425f047ffafb58d428790de8ca50c6dd9527ef7b080882fc4fe6e"

func TestTaskHashIsKeccakOfABIEncodedTask(t *testing.T) {
	hash, err := taskHash("QmTest", "0x3132332e3435", "0x2222222222222222222222222222222222222222", 0)
	if err != nil || hash != vectorHash {
		t.Fatalf("taskHash = %s, %v; want %s", hash, err, vectorHash)
	}
}

func TestECDSASignatureIsRawDeterministicAndRecoversThePerformer(t *testing.T) {
	key, err := parsePrivateKey(testPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := addressOf(key); got != testPerformer {
		t.Fatalf("address %s, want %s", got, testPerformer)
	}
	signature, err := signEcdsa(vectorHash, key)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6979 makes the signature deterministic: this is what ethers' SigningKey.sign produces.
	want := "0x201af2d6b25549cb16e205b130017c61d2436e93055e4a65c7ea09957c2070f3" +
		"7fa69ce6a71fa1969a6fe2aea3369f76f7006b872c98574abf1b7c7213d1768e1b"
	if signature != want {
		t.Fatalf("signature %s, want %s", signature, want)
	}
	recovered, err := recoverAddress(vectorHash, signature)
	if err != nil || recovered != testPerformer {
		t.Fatalf("recovered %s, %v", recovered, err)
	}
}

func TestMalformedPrivateKeyIsRefused(t *testing.T) {
	if _, err := parsePrivateKey("0x1234"); err == nil {
		t.Fatal("a short key was accepted")
	}
}
