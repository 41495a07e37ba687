package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// taskProof is what a task produces: the proof attesters check and the data it carries (0x-hex).
type taskProof struct {
	ProofOfTask string
	Data        string
}

// executeTask runs the task, signs its hash as the performer and sends it to the aggregator. A
// failed sendTask is an error (HTTP 500), so a caller never mistakes an unsent task for a sent one.
// An aggregator that already has the task (TASK_KNOWN) is a success marked "known". A sendTask
// that got no answer hands the signed task back in the error's "data".
func executeTask(body map[string]any, settings executionSettings, env Env) (map[string]any, error) {
	taskDefinitionID := settings.taskDefinitionID
	if raw, ok := body["taskDefinitionId"]; ok && raw != nil {
		id, err := parseTaskDefinitionID(raw, "taskDefinitionId")
		if err != nil {
			return nil, badRequest("%v", err)
		}
		taskDefinitionID = id
	}
	if raw, ok := body["signatureType"]; ok && raw != nil && raw != "ecdsa" {
		return nil, badRequest("signatureType must be \"ecdsa\" (this Go service has no BLS), got %v", raw)
	}
	var targetChainID int64
	if raw, ok := body["targetChainId"]; ok && raw != nil {
		id, err := parseChainID(raw, "targetChainId")
		if err != nil {
			return nil, badRequest("%v", err)
		}
		targetChainID = id
	}

	proof, err := performTask(body, env)
	if err != nil {
		return nil, err
	}
	performer := settings.performerAddress
	hash, err := taskHash(proof.ProofOfTask, proof.Data, performer, taskDefinitionID)
	if err != nil {
		return nil, fmt.Errorf("task hash: %w", err)
	}
	signature, err := signEcdsa(hash, settings.privateKey)
	if err != nil {
		return nil, err
	}
	params := []any{proof.ProofOfTask, proof.Data, taskDefinitionID, performer, signature, "ecdsa"}
	if targetChainID != 0 {
		params = append(params, targetChainID)
	}
	outcome, err := sendTask(settings.rpcURL, params, settings.sendTaskTimeout)
	var unanswered *sendTaskUnanswered
	if errors.As(err, &unanswered) {
		// No answer: the aggregator may have taken the task. The caller gets the task signed, to
		// send again as that very task (the aggregator takes it once); another execution would be
		// a new one.
		return nil, &httpError{
			status:  http.StatusInternalServerError,
			message: err.Error(),
			data:    map[string]any{"taskHash": hash, "sendTaskParams": params},
		}
	}
	if err != nil {
		return nil, err
	}
	result := map[string]any{
		"proofOfTask":      proof.ProofOfTask,
		"data":             proof.Data,
		"taskDefinitionId": taskDefinitionID,
		"performer":        performer,
		"signatureType":    "ecdsa",
		"taskHash":         hash,
	}
	if outcome.Known {
		result["known"] = true
	}
	logTaskSent(env, hash, taskDefinitionID, outcome.Known)
	return result, nil
}

// logTaskSent prints one line per task sent, with its hash, so `avsctl devnet logs --task <hash>`
// finds it (JSON when LOG_FORMAT=json).
func logTaskSent(env Env, hash string, taskDefinitionID any, known bool) {
	if env("LOG_FORMAT") == "json" {
		line, _ := json.Marshal(map[string]any{
			"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "info", "msg": "task sent",
			"taskHash": hash, "taskDefinitionId": taskDefinitionID, "known": known,
		})
		fmt.Println(string(line))
		return
	}
	suffix := ""
	if known {
		suffix = " (known)"
	}
	fmt.Printf("task sent: taskHash=%s taskDefinitionId=%v%s\n", hash, taskDefinitionID, suffix)
}

// newExecutionHandler serves POST /task/execute and GET /health.
func newExecutionHandler(settings executionSettings, env Env) http.Handler {
	return newHandler("execution", map[string]route{
		"/task/execute": func(body map[string]any) (any, error) {
			result, err := executeTask(body, settings, env)
			if err != nil {
				return nil, err
			}
			return map[string]any{"data": result, "error": false, "message": nil}, nil
		},
	})
}
