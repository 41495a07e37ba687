package main

import "encoding/hex"

// performTask is the task. This blank one turns the body's "input" (default "hello") into a
// proof as is.
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
	return taskProof{ProofOfTask: value, Data: "0x" + hex.EncodeToString([]byte(value))}, nil
}
