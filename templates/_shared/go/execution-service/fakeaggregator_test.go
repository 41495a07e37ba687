package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAggregator answers like an Othentic aggregator as far as an execution service can tell
// (batches, eth_chainId, sendTask) and records the sendTask params it received. With
// sendTaskError it answers every sendTask with that error (code -32000); with taskKnown, as a
// task the network already has in that state ("pending", "approved", ...): error -32022, reason
// TASK_KNOWN, as the aggregator answers a re-sent task; with cutSendTask it reads every request
// that holds a sendTask, then resets the connection instead of answering it, as an aggregator cut
// mid-request (killed, or restarting) does: whether it took the task is unknown.
type fakeAggregator struct {
	server        *httptest.Server
	mu            sync.Mutex
	sendTasks     [][]any
	sendTaskError string
	taskKnown     string
	cutSendTask   bool
}

func startFakeAggregator(sendTaskError string) *fakeAggregator {
	return startAggregatorWith(&fakeAggregator{sendTaskError: sendTaskError})
}

// startKnownTaskAggregator answers every sendTask as already known, in the given state.
func startKnownTaskAggregator(status string) *fakeAggregator {
	return startAggregatorWith(&fakeAggregator{taskKnown: status})
}

// startCuttingAggregator cuts every sendTask mid-request.
func startCuttingAggregator() *fakeAggregator {
	return startAggregatorWith(&fakeAggregator{cutSendTask: true})
}

func startAggregatorWith(a *fakeAggregator) *fakeAggregator {
	a.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if a.cutSendTask && a.cut(w, raw) {
			return
		}
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

// cut records the sendTask calls of a request that holds any and resets its connection.
func (a *fakeAggregator) cut(w http.ResponseWriter, raw []byte) bool {
	var requests []map[string]any
	if json.Unmarshal(raw, &requests) != nil {
		var request map[string]any
		json.Unmarshal(raw, &request)
		requests = []map[string]any{request}
	}
	cut := false
	for _, request := range requests {
		if request["method"] == "sendTask" {
			params, _ := request["params"].([]any)
			a.mu.Lock()
			a.sendTasks = append(a.sendTasks, params)
			a.mu.Unlock()
			cut = true
		}
	}
	if !cut {
		return false
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	// a reset, not a close: linger 0 drops the connection at once
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	return true
}

// expectSignedTaskHandedBack POSTs body to /task/execute of a service whose aggregator cut its
// sendTask (cutSendTask) and checks the answer: HTTP 500 naming sendTask, handing back in "data"
// the very task it signed (its hash, and the sendTask params the aggregator received), so that
// the caller can send that task again (the aggregator takes a task once) or follow its hash.
func expectSignedTaskHandedBack(t *testing.T, serviceURL string, cutting *fakeAggregator, body map[string]any) {
	t.Helper()
	status, answer := post(t, serviceURL+"/task/execute", body)
	message, _ := answer["message"].(string)
	if status != 500 || answer["error"] != true || !strings.HasPrefix(message, "sendTask failed: ") {
		t.Fatalf("%d %v", status, answer)
	}
	received := cutting.received()
	if len(received) != 1 {
		t.Fatalf("%d sendTask calls: the service must not send the task again itself", len(received))
	}
	want, _ := json.Marshal(map[string]any{"taskHash": knownTaskHash(received[0]), "sendTaskParams": received[0]})
	got, _ := json.Marshal(answer["data"])
	if string(got) != string(want) {
		t.Fatalf("data %s, want %s", got, want)
	}
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

// post POSTs body as JSON to url and decodes the JSON answer.
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
