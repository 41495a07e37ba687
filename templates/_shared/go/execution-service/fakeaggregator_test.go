package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// fakeAggregator answers like an Othentic aggregator as far as an execution service can tell
// (batches, eth_chainId, sendTask) and records the sendTask params it received. With
// sendTaskError it answers every sendTask with that error (code -32000); with taskKnown, as a
// task the network already has in that state ("pending", "approved", ...): error -32022, reason
// TASK_KNOWN, as the aggregator answers a re-sent task.
type fakeAggregator struct {
	server        *httptest.Server
	mu            sync.Mutex
	sendTasks     [][]any
	sendTaskError string
	taskKnown     string
}

func startFakeAggregator(sendTaskError string) *fakeAggregator {
	return startAggregatorWith(&fakeAggregator{sendTaskError: sendTaskError})
}

// startKnownTaskAggregator answers every sendTask as already known, in the given state.
func startKnownTaskAggregator(status string) *fakeAggregator {
	return startAggregatorWith(&fakeAggregator{taskKnown: status})
}

func startAggregatorWith(a *fakeAggregator) *fakeAggregator {
	a.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var reply any
		var batch []map[string]any
		if json.Unmarshal(raw, &batch) == nil {
			answers := []any{}
			for _, request := range batch {
				answers = append(answers, a.answer(request))
			}
			reply = answers
		} else {
			var request map[string]any
			json.Unmarshal(raw, &request)
			reply = a.answer(request)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply)
	}))
	return a
}

func (a *fakeAggregator) answer(request map[string]any) map[string]any {
	base := map[string]any{"jsonrpc": "2.0", "id": request["id"]}
	switch request["method"] {
	case "eth_chainId":
		base["result"] = fmt.Sprintf("0x%x", 31338)
	case "sendTask":
		params, _ := request["params"].([]any)
		a.mu.Lock()
		a.sendTasks = append(a.sendTasks, params)
		a.mu.Unlock()
		if a.sendTaskError != "" {
			base["error"] = map[string]any{"code": -32000, "message": a.sendTaskError}
		} else if a.taskKnown != "" {
			hash := knownTaskHash(params)
			base["error"] = map[string]any{
				"code":    -32022,
				"message": fmt.Sprintf("task %s is already known (%s)", hash, a.taskKnown),
				"data":    map[string]any{"reason": "TASK_KNOWN", "taskHash": hash, "status": a.taskKnown, "taskNumber": 7, "txHash": nil},
			}
		} else {
			base["result"] = true
		}
	default:
		base["error"] = map[string]any{"code": -32601, "message": "method not found"}
	}
	return base
}

// knownTaskHash is the task hash of sendTask params, or "" when they are not a task.
func knownTaskHash(params []any) string {
	if len(params) < 4 {
		return ""
	}
	proof, _ := params[0].(string)
	data, _ := params[1].(string)
	id, _ := params[2].(float64)
	performer, _ := params[3].(string)
	hash, err := taskHash(proof, data, performer, uint16(id))
	if err != nil {
		return ""
	}
	return hash
}

func (a *fakeAggregator) received() [][]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]any{}, a.sendTasks...)
}
