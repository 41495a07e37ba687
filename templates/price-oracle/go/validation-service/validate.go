package main

import (
	"fmt"
	"strconv"
)

// validateTask approves a price report when data is the canonical JSON of a report, proofOfTask
// is its keccak256 digest, and the price is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the
// price this service fetches itself. It returns an error (HTTP 500) only when it cannot fetch
// that price.
func validateTask(request validationRequest, env Env) (bool, error) {
	report, ok := decodeReport(request.Data)
	if !ok || !proofMatchesData(request.ProofOfTask, request.Data.(string)) {
		return false, nil
	}
	tolerance := int64(defaultToleranceBps)
	if raw := envValue(env, "PRICE_TOLERANCE_BPS"); raw != "" {
		value, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || value < 0 || value > 10000 {
			return false, fmt.Errorf("PRICE_TOLERANCE_BPS must be an integer from 0 to 10000, got %q", raw)
		}
		tolerance = value
	}
	source := envValue(env, "PRICE_SOURCE_URL")
	if source == "" {
		source = defaultPriceSourceURL
	}
	reference, _, err := fetchPrice(source, report.Symbol)
	if err != nil {
		return false, err
	}
	return withinTolerance(report.Price, reference, tolerance), nil
}
