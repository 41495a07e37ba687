package main

import "net/http"

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
