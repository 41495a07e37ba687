package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// behind is an execution service and what it talks to: a price feed, an aggregator and a
// stand-in for Pinata's pinning API and gateway.
type behind struct {
	aggregator *fakeAggregator
	ipfs       *ipfsStandIn
	service    *httptest.Server
}

// startBehind runs a price feed with `prices`, an IPFS stand-in and the execution service in
// front of them and of `aggregator`, with `env` added to its environment; all of them stop when
// the test ends.
func startBehind(t *testing.T, prices map[string]string, aggregator *fakeAggregator, env ...map[string]string) behind {
	t.Helper()
	feed := startPriceFeed(prices)
	t.Cleanup(feed.Close)
	t.Cleanup(aggregator.server.Close)
	ipfs := startIPFSStandIn()
	t.Cleanup(ipfs.Close)
	values := ipfs.env(map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": aggregator.server.URL, "PRICE_SOURCE_URL": feed.URL})
	for _, extra := range env {
		for k, v := range extra {
			values[k] = v
		}
	}
	service := startExecution(t, values)
	t.Cleanup(service.Close)
	return behind{aggregator: aggregator, ipfs: ipfs, service: service}
}

// startExecution runs the execution service with the test performer's key and `values`.
func startExecution(t *testing.T, values map[string]string) *httptest.Server {
	t.Helper()
	all := map[string]string{"PRIVATE_KEY_PERFORMER": testPrivateKey}
	for k, v := range values {
		all[k] = v
	}
	env := mapEnv(all)
	settings, err := loadExecutionSettings(env)
	if err != nil {
		t.Fatal(err)
	}
	return httptest.NewServer(newExecutionHandler(settings, env))
}

func TestExecuteSendsTheSignedTaskAndAnswersTheProof(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""))

	status, answer := post(t, b.service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT", "taskDefinitionId": 2, "targetChainId": 31338})
	if status != 200 || answer["error"] != false || answer["message"] != nil {
		t.Fatalf("answer %d %v", status, answer)
	}
	data := answer["data"].(map[string]any)
	received := b.aggregator.received()
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
	// The proof is the CID of the pinned report, and the pinned report is data's.
	report, ok := decodeReport(data["data"])
	if !ok {
		t.Fatalf("data %v is not a report", data["data"])
	}
	canonical, _ := canonicalJSON(report)
	pinned, found := b.ipfs.get(data["proofOfTask"].(string))
	if !found || string(pinned) != canonical || !looksLikeCID(data["proofOfTask"]) {
		t.Fatalf("proofOfTask %v holds %q (found %v), data holds %s", data["proofOfTask"], pinned, found, canonical)
	}
	if names, auth := b.ipfs.pins(); len(names) != 1 || names[0] != fmt.Sprintf("price-report-%d", report.Round) || auth[0] != "" {
		t.Fatalf("pins %v, Authorization %q", names, auth)
	}
}

func TestPinataJWTIsSentAsABearerToken(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""), map[string]string{"PINATA_JWT": "test-jwt"})
	if status, answer := post(t, b.service.URL+"/task/execute", map[string]any{}); status != 200 {
		t.Fatalf("%d %v", status, answer)
	}
	if _, auth := b.ipfs.pins(); len(auth) != 1 || auth[0] != "Bearer test-jwt" {
		t.Fatalf("Authorization %q", auth)
	}
}

func TestAPinFailureIs502AndNothingIsSent(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""))
	b.ipfs.fail(http.StatusUnauthorized)
	status, answer := post(t, b.service.URL+"/task/execute", map[string]any{})
	message, _ := answer["message"].(string)
	if status != 502 || answer["error"] != true || !strings.Contains(message, "pinning the report to IPFS failed") || !strings.Contains(message, "HTTP 401") {
		t.Fatalf("%d %v", status, answer)
	}
	unreachable := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""), map[string]string{"PINATA_API_URL": "http://127.0.0.1:1"})
	status, answer = post(t, unreachable.service.URL+"/task/execute", map[string]any{})
	message, _ = answer["message"].(string)
	if status != 502 || !strings.Contains(message, "unreachable") {
		t.Fatalf("%d %v", status, answer)
	}
	if n := len(b.aggregator.received()) + len(unreachable.aggregator.received()); n != 0 {
		t.Fatalf("%d tasks were sent", n)
	}
}

func TestTwoExecutionsSendTwoDistinctTasks(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startFakeAggregator(""))
	_, first := post(t, b.service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT"})
	_, second := post(t, b.service.URL+"/task/execute", map[string]any{"symbol": "ETHUSDT"})
	one, _ := first["data"].(map[string]any)
	two, _ := second["data"].(map[string]any)
	if one == nil || two == nil || one["taskHash"] == two["taskHash"] || one["proofOfTask"] == two["proofOfTask"] || len(b.aggregator.received()) != 2 {
		t.Fatalf("%v then %v", first, second)
	}
}

func TestATaskTheAggregatorAlreadyHasIsASuccessMarkedKnown(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startKnownTaskAggregator("approved"))
	status, answer := post(t, b.service.URL+"/task/execute", map[string]any{"taskDefinitionId": 1, "symbol": "ETHUSDT"})
	data, _ := answer["data"].(map[string]any)
	if status != 200 || answer["error"] != false || answer["message"] != nil || data["known"] != true || data["taskDefinitionId"] != float64(1) {
		t.Fatalf("%d %v", status, answer)
	}
	received := b.aggregator.received()
	if len(received) != 1 || received[0][0] != data["proofOfTask"] || received[0][1] != data["data"] {
		t.Fatalf("sendTask calls: %v", received)
	}
}

func TestAnAggregatorThatCutsSendTaskMidRequestIsA500HandingBackTheTaskItSigned(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "3000.5"}, startCuttingAggregator())
	expectSignedTaskHandedBack(t, b.service.URL, b.aggregator, map[string]any{"taskDefinitionId": 1, "symbol": "ETHUSDT"})
}

func TestBadInputIs400AndNothingIsSent(t *testing.T) {
	b := startBehind(t, map[string]string{"ETHUSDT": "1"}, startFakeAggregator(""))
	for _, body := range []map[string]any{{"taskDefinitionId": 70000}, {"signatureType": "bls"}, {"symbol": ""}} {
		status, answer := post(t, b.service.URL+"/task/execute", body)
		if status != 400 || answer["error"] != true {
			t.Errorf("%v: %d %v", body, status, answer)
		}
	}
	if n := len(b.aggregator.received()); n != 0 {
		t.Fatalf("%d tasks were sent", n)
	}
	if names, _ := b.ipfs.pins(); len(names) != 0 {
		t.Fatalf("pinned %v", names)
	}
}

func TestAggregatorErrorIs500NamingSendTask(t *testing.T) {
	var logged strings.Builder
	failureLog = &logged
	defer func() { failureLog = os.Stderr }()
	b := startBehind(t, map[string]string{"ETHUSDT": "1"}, startFakeAggregator("invalid performer"))
	status, answer := post(t, b.service.URL+"/task/execute", map[string]any{})
	if status != 500 || !strings.Contains(answer["message"].(string), "sendTask failed: invalid performer") {
		t.Fatalf("%d %v", status, answer)
	}
	// the service's log says so too, where a caller's error points
	if !strings.Contains(logged.String(), "execution: POST /task/execute failed (500): sendTask failed: invalid performer") {
		t.Fatalf("logged: %q", logged.String())
	}
}

func TestHealth(t *testing.T) {
	service := startExecution(t, map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": "http://127.0.0.1:1", "PRICE_SOURCE_URL": "http://127.0.0.1:1"})
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
