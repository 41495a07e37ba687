package main

import (
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
)

var (
	roundMu   sync.Mutex
	lastRound uint64
)

// nextRound is the next round of this process: max(previous round + 1, nowMs). It goes into
// Data so each execution is its own task (its own task hash), even for the same input: the
// aggregator takes a task it already has as a re-send, not as new work. The server answers
// requests concurrently, hence the lock.
func nextRound(nowMs uint64) uint64 {
	roundMu.Lock()
	defer roundMu.Unlock()
	lastRound = max(lastRound+1, nowMs)
	return lastRound
}

// performTask is the task. This blank one turns the body's "input" (default "hello") into a
// proof as is, and carries {"input": ..., "round": N} as Data.
// TODO: do the real work here and return a proof your validation service can check
// (validation-service/validate.go). ProofOfTask is any string the attesters can check; Data is
// extra bytes (0x-hex) carried on-chain with the task.
func performTask(body map[string]any, env Env) (taskProof, error) {
	value := "hello"
	if raw, ok := body["input"]; ok {
		text, isString := raw.(string)
		if !isString || text == "" {
			return taskProof{}, badRequest("input must be a non-empty string")
		}
		value = text
	}
	data, err := json.Marshal(map[string]any{"input": value, "round": nextRound(uint64(time.Now().UnixMilli()))})
	if err != nil {
		return taskProof{}, err
	}
	return taskProof{ProofOfTask: value, Data: "0x" + hex.EncodeToString(data)}, nil
}
