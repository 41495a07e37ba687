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

type blankData struct {
	Input string `json:"input"`
	Round uint64 `json:"round"`
}

func dataOf(t *testing.T, proof taskProof) blankData {
	t.Helper()
	raw, err := hex.DecodeString(strings.TrimPrefix(proof.Data, "0x"))
	var data blankData
	if err != nil || json.Unmarshal(raw, &data) != nil {
		t.Fatalf("data %s", proof.Data)
	}
	return data
}

func TestTaskTurnsItsInputIntoTheProofAndCarriesItWithItsRoundAsData(t *testing.T) {
	proof, err := performTask(map[string]any{"input": "abc"}, mapEnv(nil))
	if err != nil || proof.ProofOfTask != "abc" {
		t.Fatalf("%+v %v", proof, err)
	}
	if data := dataOf(t, proof); data.Input != "abc" || data.Round == 0 {
		t.Fatalf("data %+v", data)
	}
	if _, err := performTask(map[string]any{"input": ""}, mapEnv(nil)); err == nil {
		t.Fatal("empty input accepted")
	}
}

func TestTwoExecutionsOfTheSameInputAreTwoTasksInIncreasingRounds(t *testing.T) {
	first, err1 := performTask(map[string]any{}, mapEnv(nil))
	second, err2 := performTask(map[string]any{}, mapEnv(nil))
	if err1 != nil || err2 != nil || first.ProofOfTask != second.ProofOfTask || first.Data == second.Data {
		t.Fatalf("%+v %+v %v %v", first, second, err1, err2)
	}
	if dataOf(t, second).Round <= dataOf(t, first).Round {
		t.Fatalf("rounds do not increase: %+v %+v", first, second)
	}
}

// startService runs the execution service in front of the aggregator at aggregatorURL, with the
// test performer's key; it stops when the test ends.
func startService(t *testing.T, aggregatorURL string) *httptest.Server {
	t.Helper()
	env := mapEnv(map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": aggregatorURL, "PRIVATE_KEY_PERFORMER": testPrivateKey})
	settings, err := loadExecutionSettings(env)
	if err != nil {
		t.Fatal(err)
	}
	service := httptest.NewServer(newExecutionHandler(settings, env))
	t.Cleanup(service.Close)
	return service
}

func TestATaskTheAggregatorAlreadyHasIsASuccessMarkedKnown(t *testing.T) {
	aggregator := startKnownTaskAggregator("pending")
	defer aggregator.server.Close()
	service := startService(t, aggregator.server.URL)
	status, answer := post(t, service.URL+"/task/execute", map[string]any{"taskDefinitionId": 1, "input": "abc"})
	data, _ := answer["data"].(map[string]any)
	if status != 200 || answer["error"] != false || answer["message"] != nil || data["known"] != true || data["proofOfTask"] != "abc" {
		t.Fatalf("%d %v", status, answer)
	}
	if n := len(aggregator.received()); n != 1 {
		t.Fatalf("%d sendTask calls", n)
	}
}

func TestAnAggregatorThatCutsSendTaskMidRequestIsA500HandingBackTheTaskItSigned(t *testing.T) {
	aggregator := startCuttingAggregator()
	defer aggregator.server.Close()
	service := startService(t, aggregator.server.URL)
	expectSignedTaskHandedBack(t, service.URL, aggregator, map[string]any{"taskDefinitionId": 1, "input": "abc"})
}

func TestExecuteSignsAndSendsTheTask(t *testing.T) {
	aggregator := startFakeAggregator("")
	defer aggregator.server.Close()
	service := startService(t, aggregator.server.URL)

	response, err := http.Post(service.URL+"/task/execute", "application/json", bytes.NewReader([]byte(`{"input":"hello world"}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer struct {
		Data    map[string]any `json:"data"`
		Error   bool           `json:"error"`
		Message *string        `json:"message"`
	}
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil || response.StatusCode != 200 || answer.Error || answer.Message != nil {
		t.Fatalf("%d %+v %v", response.StatusCode, answer, err)
	}
	received := aggregator.received()
	if len(received) != 1 {
		t.Fatalf("sendTask calls: %v", received)
	}
	params := received[0]
	if params[0] != "hello world" || params[1] != answer.Data["data"] || params[2] != float64(1) || params[3] != testPerformer || params[5] != "ecdsa" {
		t.Fatalf("params %v", params)
	}
	hash, _ := taskHash("hello world", answer.Data["data"].(string), testPerformer, 1)
	if recovered, err := recoverAddress(hash, params[4].(string)); err != nil || recovered != testPerformer {
		t.Fatalf("recovered %s %v", recovered, err)
	}
}
