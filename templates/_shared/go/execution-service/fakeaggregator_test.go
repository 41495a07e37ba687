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
// (batches, eth_chainId, sendTask) and records the sendTask params it received.
type fakeAggregator struct {
	server        *httptest.Server
	mu            sync.Mutex
	sendTasks     [][]any
	sendTaskError string
}

func startFakeAggregator(sendTaskError string) *fakeAggregator {
	a := &fakeAggregator{sendTaskError: sendTaskError}
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
		} else {
			base["result"] = true
		}
	default:
		base["error"] = map[string]any{"code": -32601, "message": "method not found"}
	}
	return base
}

func (a *fakeAggregator) received() [][]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]any{}, a.sendTasks...)
}
