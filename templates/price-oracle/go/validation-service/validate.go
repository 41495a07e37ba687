package main

import (
	"fmt"
	"strconv"
)

// validateTask approves a price report when proofOfTask is the CID of a report in IPFS (read
// through PINATA_GATEWAY), data (when sent) is exactly that report's canonical JSON, and the
// price is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the price this service fetches
// itself. It returns an error (HTTP 500) only when it cannot decide: the gateway or the price
// source is down, or the gateway answers 408 or 429. A gateway that has no such content (any
// other 4xx) is a rejection.
func validateTask(request validationRequest, env Env) (bool, error) {
	if !looksLikeCID(request.ProofOfTask) {
		return false, nil
	}
	// A task may carry its result in IPFS alone (data missing or null); data that is sent must
	// be a canonical report, and data that is not ("", "0x", other forms) can match no content:
	// it is rejected without asking the gateway, whatever state the gateway is in.
	var claimed priceReport
	if request.Data != nil {
		report, ok := decodeReport(request.Data)
		if !ok {
			return false, nil
		}
		claimed = report
	}
	tolerance := int64(defaultToleranceBps)
	if raw := envValue(env, "PRICE_TOLERANCE_BPS"); raw != "" {
		value, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || value < 0 || value > 10000 {
			return false, fmt.Errorf("PRICE_TOLERANCE_BPS must be an integer from 0 to 10000, got %q", raw)
		}
		tolerance = value
	}
	content, found, err := fetchFromIPFS(request.ProofOfTask.(string), env)
	if err != nil || !found {
		return false, err
	}
	report, ok := parseReport(content)
	if !ok {
		return false, nil
	}
	if request.Data != nil && report != claimed {
		return false, nil
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
