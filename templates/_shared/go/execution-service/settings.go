package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

var addressPattern = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

type executionSettings struct {
	host             string
	port             int
	rpcURL           string
	privateKey       *secp256k1.PrivateKey
	performerAddress string
	taskDefinitionID uint16
	sendTaskTimeout  time.Duration
}

// loadExecutionSettings reads the environment, naming the variable when one is missing or wrong.
func loadExecutionSettings(env Env) (executionSettings, error) {
	var s executionSettings
	s.rpcURL = envValue(env, "OTHENTIC_CLIENT_RPC_ADDRESS")
	if s.rpcURL == "" {
		return s, errors.New("OTHENTIC_CLIENT_RPC_ADDRESS is not set (the aggregator's JSON-RPC URL)")
	}
	rawKey := envValue(env, "PRIVATE_KEY_PERFORMER")
	if rawKey == "" {
		return s, errors.New("PRIVATE_KEY_PERFORMER is not set (the performer's private key)")
	}
	key, err := parsePrivateKey(rawKey)
	if err != nil {
		return s, err
	}
	s.privateKey = key
	if sigType := envValue(env, "PERFORMER_SIGNATURE_TYPE"); sigType != "" && sigType != "ecdsa" {
		return s, errors.New("PERFORMER_SIGNATURE_TYPE: this Go service signs with ecdsa only")
	}
	s.host = envValue(env, "HOST")
	if s.host == "" {
		s.host = "0.0.0.0"
	}
	if s.port, err = portFrom(env, "EXECUTION_PORT", 4003); err != nil {
		return s, err
	}
	s.performerAddress = envValue(env, "PERFORMER_ADDRESS")
	if s.performerAddress != "" && !addressPattern.MatchString(s.performerAddress) {
		return s, fmt.Errorf("PERFORMER_ADDRESS must be a 0x-prefixed 20-byte address, got %q", s.performerAddress)
	}
	if s.performerAddress == "" {
		s.performerAddress = addressOf(key)
	}
	s.taskDefinitionID = 1
	if raw := envValue(env, "TASK_DEFINITION_ID"); raw != "" {
		if s.taskDefinitionID, err = parseTaskDefinitionID(raw, "TASK_DEFINITION_ID"); err != nil {
			return s, err
		}
	}
	s.sendTaskTimeout = 15 * time.Second
	if raw := envValue(env, "SEND_TASK_TIMEOUT_MS"); raw != "" {
		ms, err := strconv.Atoi(raw)
		if err != nil || ms <= 0 {
			return s, fmt.Errorf("SEND_TASK_TIMEOUT_MS must be a positive integer, got %q", raw)
		}
		s.sendTaskTimeout = time.Duration(ms) * time.Millisecond
	}
	return s, nil
}

// integerOf reads a JSON number or a decimal string as an integer.
func integerOf(value any) (int64, bool) {
	switch v := value.(type) {
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil && v != "" && v[0] != '-' && v[0] != '+'
	case int:
		return int64(v), true
	case float64:
		return int64(v), v == float64(int64(v))
	}
	return 0, false
}

func parseTaskDefinitionID(value any, name string) (uint16, error) {
	n, ok := integerOf(value)
	if !ok || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%s must be an integer from 0 to 65535, got %v", name, value)
	}
	return uint16(n), nil
}

func parseChainID(value any, name string) (int64, error) {
	n, ok := integerOf(value)
	if !ok || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, got %v", name, value)
	}
	return n, nil
}
