package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func validate(t *testing.T, url, body string) map[string]any {
	t.Helper()
	response, err := http.Post(url+"/task/validate", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	return answer
}

func TestNonEmptyProofIsApprovedAndEmptyRejected(t *testing.T) {
	service := httptest.NewServer(newValidationHandler(mapEnv(nil)))
	defer service.Close()
	if answer := validate(t, service.URL, `{"proofOfTask":"hello","data":"0x","taskDefinitionId":1,"performer":"0x"}`); answer["data"] != true || answer["error"] != false || answer["message"] != nil {
		t.Fatalf("%v", answer)
	}
	for _, body := range []string{`{"proofOfTask":""}`, `{}`} {
		if answer := validate(t, service.URL, body); answer["data"] != false {
			t.Fatalf("%s: %v", body, answer)
		}
	}
}
