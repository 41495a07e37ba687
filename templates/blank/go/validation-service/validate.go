package main

// validateTask approves or rejects a task. This blank one approves any non-empty proof.
// TODO: recompute or check the work of execution-service/task.go here; return false for a wrong
// proof and an error (HTTP 500) only when this service cannot decide.
func validateTask(request validationRequest, env Env) (bool, error) {
	proof, ok := request.ProofOfTask.(string)
	return ok && proof != "", nil
}
