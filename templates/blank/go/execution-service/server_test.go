package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTaskTurnsItsInputIntoTheProof(t *testing.T) {
	proof, err := performTask(map[string]any{"input": "abc"}, mapEnv(nil))
	if err != nil || proof.ProofOfTask != "abc" || proof.Data != "0x616263" {
		t.Fatalf("%+v %v", proof, err)
	}
	if _, err := performTask(map[string]any{"input": ""}, mapEnv(nil)); err == nil {
		t.Fatal("empty input accepted")
	}
}

func TestExecuteSignsAndSendsTheTask(t *testing.T) {
	aggregator := startFakeAggregator("")
	defer aggregator.server.Close()
	env := mapEnv(map[string]string{"OTHENTIC_CLIENT_RPC_ADDRESS": aggregator.server.URL, "PRIVATE_KEY_PERFORMER": testPrivateKey})
	settings, err := loadExecutionSettings(env)
	if err != nil {
		t.Fatal(err)
	}
	service := httptest.NewServer(newExecutionHandler(settings, env))
	defer service.Close()

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
