package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testPerformer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

// validator is a validation service in front of a price feed (ETHUSDT at 3000.00) and a
// stand-in for Pinata's pinning API and gateway, all stopped when the test ends.
type validator struct {
	ipfs    *ipfsStandIn
	env     Env
	service *httptest.Server
}

func startValidation(t *testing.T, extra ...map[string]string) validator {
	t.Helper()
	feed := startPriceFeed(map[string]string{"ETHUSDT": "3000.00"})
	t.Cleanup(feed.Close)
	ipfs := startIPFSStandIn()
	t.Cleanup(ipfs.Close)
	values := ipfs.env(map[string]string{"PRICE_SOURCE_URL": feed.URL, "PRICE_TOLERANCE_BPS": "100"})
	for _, more := range extra {
		for k, v := range more {
			values[k] = v
		}
	}
	env := mapEnv(values)
	service := httptest.NewServer(newValidationHandler(env))
	t.Cleanup(service.Close)
	return validator{ipfs: ipfs, env: env, service: service}
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

func requestFor(t *testing.T, proofOfTask, data any) []byte {
	t.Helper()
	fields := map[string]any{"proofOfTask": proofOfTask, "taskDefinitionId": 1, "performer": testPerformer}
	if data != nil {
		fields["data"] = data
	}
	body, _ := json.Marshal(fields)
	return body
}

func reportAt(price string) priceReport {
	return priceReport{Price: price, Round: 1, Symbol: "ETHUSDT", Timestamp: 1}
}

// pinned pins a report as the execution service does and returns its CID and data.
func (v validator) pinned(t *testing.T, report priceReport) (string, string) {
	t.Helper()
	cid, err := pinReport(report, v.env)
	if err != nil {
		t.Fatal(err)
	}
	data, err := reportData(report)
	if err != nil {
		t.Fatal(err)
	}
	return cid, data
}

func TestPinnedHonestReportIsApproved(t *testing.T) {
	v := startValidation(t)
	cid, data := v.pinned(t, reportAt("3010.5"))
	status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
	if status != 200 || answer["data"] != true || answer["error"] != false || answer["message"] != nil {
		t.Fatalf("%d %v", status, answer)
	}
	// Without data, the pinned report alone is checked.
	if status, answer := validate(t, v.service.URL, requestFor(t, cid, nil)); status != 200 || answer["data"] != true {
		t.Fatalf("without data: %d %v", status, answer)
	}
}

func TestPriceOutsideToleranceIsRejected(t *testing.T) {
	v := startValidation(t)
	cid, data := v.pinned(t, reportAt("3030.01"))
	if status, answer := validate(t, v.service.URL, requestFor(t, cid, data)); status != 200 || answer["data"] != false {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestUnknownCIDIsRejected(t *testing.T) {
	v := startValidation(t)
	_, data := v.pinned(t, reportAt("3000.00"))
	unknown := cidV0Of([]byte("never pinned"))
	if status, answer := validate(t, v.service.URL, requestFor(t, unknown, data)); status != 200 || answer["data"] != false {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestProofThatIsNotACIDIsRejected(t *testing.T) {
	v := startValidation(t)
	_, data := v.pinned(t, reportAt("3000.00"))
	for _, proof := range []any{
		// The keccak256 digest this template used as its proof before it pinned reports.
		"0xab4ae797cfcdaf9d4fd1b871ed128aaec7651d8a67dfbd98e749567aa2aa9600",
		"", "Qm123", "../health", 42, nil,
	} {
		if status, answer := validate(t, v.service.URL, requestFor(t, proof, data)); status != 200 || answer["data"] != false {
			t.Errorf("%v: %d %v", proof, status, answer)
		}
	}
}

func TestContentNotMatchingDataIsRejected(t *testing.T) {
	v := startValidation(t)
	cid, _ := v.pinned(t, reportAt("3000.00"))
	other := reportAt("3000.00")
	other.Round = 2
	_, otherData := v.pinned(t, other)
	if _, answer := validate(t, v.service.URL, requestFor(t, cid, otherData)); answer["data"] != false {
		t.Fatalf("another report's data approved: %v", answer)
	}
	notAReport := v.ipfs.put([]byte(`{"hello":"world"}`))
	_, data := v.pinned(t, reportAt("3000.00"))
	if _, answer := validate(t, v.service.URL, requestFor(t, notAReport, data)); answer["data"] != false {
		t.Fatalf("content that is no report approved: %v", answer)
	}
	for _, bad := range []any{"not hex", "0x", "0x7b", 7} {
		if _, answer := validate(t, v.service.URL, requestFor(t, cid, bad)); answer["data"] != false {
			t.Errorf("data %v approved: %v", bad, answer)
		}
	}
}

func TestNonCanonicalDataIsRejectedEvenWhenItHoldsThePinnedReport(t *testing.T) {
	v := startValidation(t)
	cid, _ := v.pinned(t, reportAt("3000.00"))
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
		if _, answer := validate(t, v.service.URL, requestFor(t, cid, data)); answer["data"] != false {
			t.Errorf("approved %s", text)
		}
	}
}

func TestGatewayDownIs500NotAVote(t *testing.T) {
	v := startValidation(t)
	cid, data := v.pinned(t, reportAt("3000.00"))
	v.ipfs.fail(http.StatusServiceUnavailable)
	status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
	if status != 500 || answer["error"] != true || !strings.Contains(answer["message"].(string), "HTTP 503") {
		t.Fatalf("gateway answering 503: %d %v", status, answer)
	}
	unreachable := startValidation(t, map[string]string{"PINATA_GATEWAY": "http://127.0.0.1:1/ipfs/"})
	status, answer = validate(t, unreachable.service.URL, requestFor(t, cid, data))
	if status != 500 || answer["error"] != true || !strings.Contains(answer["message"].(string), "unreachable") {
		t.Fatalf("gateway unreachable: %d %v", status, answer)
	}
	if d, ok := answer["data"].(map[string]any); !ok || len(d) != 0 {
		t.Fatalf("data %v", answer["data"])
	}
}

func TestMissingOrNullDataIsNotGiven(t *testing.T) {
	v := startValidation(t)
	cid, _ := v.pinned(t, reportAt("3000.00"))
	for _, body := range []string{
		`{"proofOfTask":"` + cid + `","taskDefinitionId":1}`,
		`{"proofOfTask":"` + cid + `","data":null,"taskDefinitionId":1}`,
	} {
		if status, answer := validate(t, v.service.URL, []byte(body)); status != 200 || answer["data"] != true {
			t.Errorf("%s: %d %v", body, status, answer)
		}
	}
}

func TestEmptyDataIsGivenAndRejectedWithoutAskingTheGateway(t *testing.T) {
	v := startValidation(t)
	cid, _ := v.pinned(t, reportAt("3000.00"))
	// Were the gateway asked, a failing one would make this a 500; empty data is a verdict.
	v.ipfs.fail(http.StatusServiceUnavailable)
	for _, data := range []string{"", "0x"} {
		status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
		if status != 200 || answer["data"] != false || answer["error"] != false {
			t.Errorf("data %q: %d %v", data, status, answer)
		}
	}
}

func TestGatewayTimeoutOrRateLimitIs500AndOther4xxARejection(t *testing.T) {
	v := startValidation(t)
	cid, data := v.pinned(t, reportAt("3000.00"))
	for _, code := range []int{http.StatusRequestTimeout, http.StatusTooManyRequests} {
		v.ipfs.fail(code)
		status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
		message, _ := answer["message"].(string)
		if status != 500 || answer["error"] != true || !strings.Contains(message, fmt.Sprintf("HTTP %d", code)) {
			t.Errorf("gateway answering %d: %d %v", code, status, answer)
		}
	}
	for _, code := range []int{400, 403, 404, 410} {
		v.ipfs.fail(code)
		status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
		if status != 200 || answer["data"] != false || answer["error"] != false {
			t.Errorf("gateway answering %d: %d %v", code, status, answer)
		}
	}
}

func TestMissingFieldsAreARejection(t *testing.T) {
	v := startValidation(t)
	if status, answer := validate(t, v.service.URL, []byte(`{"taskDefinitionId":1}`)); status != 200 || answer["data"] != false {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestPriceSourceDownIs500NotAVote(t *testing.T) {
	v := startValidation(t)
	cid, data := v.pinned(t, priceReport{Price: "1", Round: 1, Symbol: "UNKNOWN", Timestamp: 1})
	status, answer := validate(t, v.service.URL, requestFor(t, cid, data))
	if status != 500 || answer["error"] != true || !strings.Contains(answer["message"].(string), "price source") {
		t.Fatalf("%d %v", status, answer)
	}
	if d, ok := answer["data"].(map[string]any); !ok || len(d) != 0 {
		t.Fatalf("data %v", answer["data"])
	}
}

func TestBodyThatIsNotJSONIs400(t *testing.T) {
	v := startValidation(t)
	if status, _ := validate(t, v.service.URL, []byte("not json")); status != 400 {
		t.Fatalf("status %d", status)
	}
}
