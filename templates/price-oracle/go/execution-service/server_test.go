package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	payload, _ := json.Marshal(body)
	response, err := http.Post(url, "application/json", bytes.NewReader(payload))
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

// startBehind runs a price feed with `prices` and the execution service in front of it and of
// `aggregator`; all three stop when the test ends.
func startBehind(t *testing.T, prices map[string]string, aggregator *fakeAggregator) (*fakeAggregator, *httptest.Server) {
	t.Helper()
	feed := startPriceFeed(prices)
	t.Cleanup(feed.Close)
	t.Cleanup(aggregator.server.Close)
	service := startExecution(t, aggregator.server.URL, feed.URL)
	t.Cleanup(service.Close)
	return aggregator, service
}

func startExecution(t *testing.T, aggregatorURL, feedURL string) *httptest.Server {
	t.Helper()
	env := mapEnv(map[string]string{
		"OTHENTIC_CLIENT_RPC_ADDRESS": aggregatorURL,
		"PRIVATE_KEY_PERFORMER":       testPrivateKey,
		"PRICE_SOURCE_URL":            feedURL,
	})
	settings, err := loadExecutionSettings(env)
	if err != nil {
		t.Fatal(err)
	}
	return httptest.NewServer(newExecutionHandler(settings, env))
}

func TestExecuteSendsTheSignedTaskAndAnswersTheProof(t *testing.T) {
	aggregator, service := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""))

	status, answer := post(t, service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT", "taskDefinitionId": 2, "targetChainId": 31338})
	if status != 200 || answer["error"] != false || answer["message"] != nil {
		t.Fatalf("answer %d %v", status, answer)
	}
	data := answer["data"].(map[string]any)
	received := aggregator.received()
	if len(received) != 1 {
		t.Fatalf("sendTask calls: %v", received)
	}
	params := received[0]
	if len(params) != 7 || params[0] != data["proofOfTask"] || params[1] != data["data"] || params[2] != float64(2) ||
		params[3] != testPerformer || params[5] != "ecdsa" || params[6] != float64(31338) {
		t.Fatalf("sendTask params %v", params)
	}
	hash, _ := taskHash(data["proofOfTask"].(string), data["data"].(string), testPerformer, 2)
	if recovered, err := recoverAddress(hash, params[4].(string)); err != nil || recovered != testPerformer {
		t.Fatalf("signature recovers %s, %v", recovered, err)
	}
	if _, marked := data["known"]; marked {
		t.Fatalf("a new task marked known: %v", data)
	}
}

func TestTwoExecutionsSendTwoDistinctTasks(t *testing.T) {
	aggregator, service := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""))
	_, first := post(t, service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT"})
	_, second := post(t, service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT"})
	a, _ := first["data"].(map[string]any)
	b, _ := second["data"].(map[string]any)
	if a == nil || b == nil || a["taskHash"] == b["taskHash"] || len(aggregator.received()) != 2 {
		t.Fatalf("%v then %v", first, second)
	}
}

func TestATaskTheAggregatorAlreadyHasIsASuccessMarkedKnown(t *testing.T) {
	aggregator, service := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startKnownTaskAggregator("approved"))
	status, answer := post(t, service.URL+"/task/execute", map[string]any{"taskDefinitionId": 1, "symbol": "ETHUSDT"})
	data, _ := answer["data"].(map[string]any)
	if status != 200 || answer["error"] != false || answer["message"] != nil || data["known"] != true || data["taskDefinitionId"] != float64(1) {
		t.Fatalf("%d %v", status, answer)
	}
	received := aggregator.received()
	if len(received) != 1 || received[0][0] != data["proofOfTask"] || received[0][1] != data["data"] {
		t.Fatalf("sendTask calls: %v", received)
	}
}

func TestBadInputIs400AndNothingIsSent(t *testing.T) {
	aggregator, service := startBehind(t, map[string]string{"ETHUSDT": "1"}, startFakeAggregator(""))
	for _, body := range []map[string]any{{"taskDefinitionId": 70000}, {"signatureType": "bls"}, {"symbol": ""}} {
		status, answer := post(t, service.URL+"/task/execute", body)
		if status != 400 || answer["error"] != true {
			t.Errorf("%v: %d %v", body, status, answer)
		}
	}
	if n := len(aggregator.received()); n != 0 {
		t.Fatalf("%d tasks were sent", n)
	}
}

func TestAggregatorErrorIs500NamingSendTask(t *testing.T) {
	_, service := startBehind(t, map[string]string{"ETHUSDT": "1"}, startFakeAggregator("invalid performer"))
	status, answer := post(t, service.URL+"/task/execute", map[string]any{})
	if status != 500 || !strings.Contains(answer["message"].(string), "sendTask failed: invalid performer") {
		t.Fatalf("%d %v", status, answer)
	}
}

func TestHealth(t *testing.T) {
	service := startExecution(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
	defer service.Close()
	response, err := http.Get(service.URL + "/health")
	if err != nil || response.StatusCode != 200 {
		t.Fatalf("health: %v", err)
	}
	response.Body.Close()
}

func TestSettingsNameTheMissingVariable(t *testing.T) {
	_, err := loadExecutionSettings(mapEnv(map[string]string{"PRIVATE_KEY_PERFORMER": testPrivateKey}))
	if err == nil || !strings.Contains(err.Error(), "OTHENTIC_CLIENT_RPC_ADDRESS") {
		t.Errorf("missing rpc: %v", err)
	}
	_, err = loadExecutionSettings(mapEnv(map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": "http://x"}))
	if err == nil || !strings.Contains(err.Error(), "PRIVATE_KEY_PERFORMER") {
		t.Errorf("missing key: %v", err)
	}
	_, err = loadExecutionSettings(mapEnv(map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": "http://x", "PRIVATE_KEY_PERFORMER": testPrivateKey, "PERFORMER_ADDRESS": "0x1234"}))
	if err == nil || !strings.Contains(err.Error(), "PERFORMER_ADDRESS") {
		t.Errorf("bad performer address: %v", err)
	}
}
