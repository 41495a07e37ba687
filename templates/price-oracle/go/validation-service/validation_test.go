package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testPerformer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

func startValidation(t *testing.T) (*httptest.Server, func()) {
	t.Helper()
	feed := startPriceFeed(map[string]string{"ETHUSDT": "3000.00"})
	service := httptest.NewServer(newValidationHandler(mapEnv(map[string]string{
		"PRICE_SOURCE_URL":    feed.URL,
		"PRICE_TOLERANCE_BPS": "100",
	})))
	return service, func() { service.Close(); feed.Close() }
}

func validate(t *testing.T, url string, body []byte) (int, map[string]any) {
	t.Helper()
	response, err := http.Post(url+"/task/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	return response.StatusCode, answer
}

func requestFor(t *testing.T, proofOfTask, data string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"proofOfTask": proofOfTask, "data": data, "taskDefinitionId": 1, "performer": testPerformer})
	return body
}

func proofFor(t *testing.T, price string) (string, string) {
	t.Helper()
	proof, data, err := buildProof(priceReport{Price: price, Round: 1, Symbol: "ETHUSDT", Timestamp: 1})
	if err != nil {
		t.Fatal(err)
	}
	return proof, data
}

func requestForPrice(t *testing.T, price string) []byte {
	t.Helper()
	proof, data := proofFor(t, price)
	return requestFor(t, proof, data)
}

func TestCorrectProofIsApproved(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	status, answer := validate(t, service.URL, requestForPrice(t, "3010.5"))
	if status != 200 || answer["data"] != true || answer["error"] != false || answer["message"] != nil {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestPriceOutsideToleranceIsRejected(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	if status, answer := validate(t, service.URL, requestForPrice(t, "3030.01")); status != 200 || answer["data"] != false {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestDigestNotMatchingDataIsRejected(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	proof, data := proofFor(t, "3000.00")
	last := "0"
	if strings.HasSuffix(proof, "0") {
		last = "1"
	}
	if _, answer := validate(t, service.URL, requestFor(t, proof[:len(proof)-1]+last, data)); answer["data"] != false {
		t.Fatalf("tampered digest approved: %v", answer)
	}
}

func TestNonCanonicalDataIsRejectedEvenWithAMatchingDigest(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	for _, text := range []string{
		`{"price": "3000.00", "round": 1, "symbol": "ETHUSDT", "timestamp": 1}`,
		`{"round":1,"price":"3000.00","symbol":"ETHUSDT","timestamp":1}`,
		`{"price":3000,"round":1,"symbol":"ETHUSDT","timestamp":1}`,
		`{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1,"extra":1}`,
		`{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1.0}`,
		`{"price":"3000.00","round":1.0,"symbol":"ETHUSDT","timestamp":1}`,
		`{"price":"3000.00","round":-1,"symbol":"ETHUSDT","timestamp":1}`,
		`{"price":"3000.00","round":"1","symbol":"ETHUSDT","timestamp":1}`,
		// Without a round: the report of a template older than the round rule.
		`{"price":"3000.00","symbol":"ETHUSDT","timestamp":1}`,
	} {
		data := "0x" + hex.EncodeToString([]byte(text))
		if _, ok := decodeReport(data); ok {
			t.Errorf("decoded %s", text)
		}
		if _, answer := validate(t, service.URL, requestFor(t, keccakHex([]byte(text)), data)); answer["data"] != false {
			t.Errorf("approved %s", text)
		}
	}
}

func TestMissingFieldsAreARejection(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	if status, answer := validate(t, service.URL, []byte(`{"taskDefinitionId":1}`)); status != 200 || answer["data"] != false {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestPriceSourceDownIs500NotAVote(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	proof, data, _ := buildProof(priceReport{Price: "1", Round: 1, Symbol: "UNKNOWN", Timestamp: 1})
	status, answer := validate(t, service.URL, requestFor(t, proof, data))
	if status != 500 || answer["error"] != true || !strings.Contains(answer["message"].(string), "price source") {
		t.Fatalf("%d %v", status, answer)
	}
	if d, ok := answer["data"].(map[string]any); !ok || len(d) != 0 {
		t.Fatalf("data %v", answer["data"])
	}
}

func TestBodyThatIsNotJSONIs400(t *testing.T) {
	service, stop := startValidation(t)
	defer stop()
	if status, _ := validate(t, service.URL, []byte("not json")); status != 400 {
		t.Fatalf("status %d", status)
	}
}
