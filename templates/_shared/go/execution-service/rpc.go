package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// sendTask posts one JSON-RPC sendTask request to the aggregator and returns its result.
func sendTask(rpcURL string, params []any, timeout time.Duration) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "sendTask", "params": params})
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: timeout}
	response, err := client.Post(rpcURL, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("sendTask failed: %s unreachable: %w", rpcURL, err)
	}
	defer response.Body.Close()
	var answer rpcResponse
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		return nil, fmt.Errorf("sendTask failed: %s answered HTTP %d without JSON-RPC", rpcURL, response.StatusCode)
	}
	if answer.Error != nil {
		return nil, fmt.Errorf("sendTask failed: %s", answer.Error.Message)
	}
	return answer.Result, nil
}
