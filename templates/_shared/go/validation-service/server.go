package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// newValidationHandler serves POST /task/validate and GET /health. It answers
// {"data": true|false, "error": false, "message": null}; when the service cannot decide (its own
// source is down, say) it answers HTTP 500 {"error": true, "message", "data": {}} rather than a
// false that would count as a vote against a correct task.
func newValidationHandler(env Env) http.Handler {
	return newHandler("validation", map[string]route{
		"/task/validate": func(body map[string]any) (any, error) {
			request := validationRequest{
				ProofOfTask:      body["proofOfTask"],
				Data:             body["data"],
				TaskDefinitionID: body["taskDefinitionId"],
				Performer:        body["performer"],
			}
			approved, err := validateTask(request, env)
			if err != nil {
				return nil, err
			}
			logTaskValidated(env, body, approved)
			return map[string]any{"data": approved, "error": false, "message": nil}, nil
		},
	})
}

// validationRequest is what the attesters send; fields keep their JSON types, unchecked.
type validationRequest struct {
	ProofOfTask      any
	Data             any
	TaskDefinitionID any
	Performer        any
}

// logTaskValidated prints one line per task validated, with the hash avsctl's attesters send
// along (taskHash), so `avsctl devnet logs --task <hash>` finds it (JSON when LOG_FORMAT=json).
func logTaskValidated(env Env, body map[string]any, approved bool) {
	taskHash, _ := body["taskHash"].(string)
	if env("LOG_FORMAT") == "json" {
		var hash any
		if taskHash != "" {
			hash = taskHash
		}
		line, _ := json.Marshal(map[string]any{
			"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "info", "msg": "task validated",
			"taskHash": hash, "taskDefinitionId": body["taskDefinitionId"], "approved": approved,
		})
		fmt.Println(string(line))
		return
	}
	if taskHash == "" {
		taskHash = "-"
	}
	fmt.Printf("task validated: taskHash=%s taskDefinitionId=%v approved=%t\n", taskHash, body["taskDefinitionId"], approved)
}
