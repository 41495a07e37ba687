package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// taskKnownCode is what the aggregator answers for a task it already has (in progress or
// decided): JSON-RPC error -32022, reason "TASK_KNOWN", with the task's state in error.data.
const taskKnownCode = -32022

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// sendTaskOutcome is what sendTask got back. Known is true when the aggregator already had the
// task (TASK_KNOWN): the network has it, so the task is sent; nothing failed, and sending it
// again would change nothing. Result is sendTask's result, or the known task's state (error.data).
type sendTaskOutcome struct {
	Known  bool
	Result json.RawMessage
}

// sendTaskUnanswered is a sendTask that got no JSON-RPC answer: the connection was refused or
// cut, the call timed out, or what came back was no JSON-RPC. Unless it was refused, the
// aggregator may have taken the task; the same signed params may be sent again safely, since it
// takes a task once (TASK_KNOWN after).
type sendTaskUnanswered struct{ message string }

func (e *sendTaskUnanswered) Error() string { return e.message }

// sendTask posts one JSON-RPC sendTask request to the aggregator; any JSON-RPC error but
// TASK_KNOWN is an error, and no answer a *sendTaskUnanswered.
func sendTask(rpcURL string, params []any, timeout time.Duration) (sendTaskOutcome, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "sendTask", "params": params})
	if err != nil {
		return sendTaskOutcome{}, err
	}
	client := &http.Client{Timeout: timeout}
	response, err := client.Post(rpcURL, "application/json", bytes.NewReader(body))
	if err != nil {
		return sendTaskOutcome{}, &sendTaskUnanswered{fmt.Sprintf("sendTask failed: %s unreachable: %v", rpcURL, err)}
	}
	defer response.Body.Close()
	var answer rpcResponse
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		return sendTaskOutcome{}, &sendTaskUnanswered{fmt.Sprintf("sendTask failed: %s answered HTTP %d without JSON-RPC", rpcURL, response.StatusCode)}
	}
	if answer.Error != nil {
		if answer.Error.Code == taskKnownCode {
			return sendTaskOutcome{Known: true, Result: answer.Error.Data}, nil
		}
		return sendTaskOutcome{}, fmt.Errorf("sendTask failed: %s", answer.Error.Message)
	}
	return sendTaskOutcome{Result: answer.Result}, nil
}
