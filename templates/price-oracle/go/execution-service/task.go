package main

import (
	"fmt"
	"time"
)

// performTask is the task: fetch the current price of a symbol, as this process's next round (so
// each execution is its own task), and pin the report to IPFS; its CID is the proof. Body fields
// it reads: symbol (default PRICE_SYMBOL or ETHUSDT). Change this function to change what the AVS does; keep
// validation-service/validate.go in step with it.
func performTask(body map[string]any, env Env) (taskProof, error) {
	symbol := envValue(env, "PRICE_SYMBOL")
	if symbol == "" {
		symbol = defaultSymbol
	}
	if raw, ok := body["symbol"]; ok && raw != nil {
		text, isString := raw.(string)
		if !isString {
			return taskProof{}, badRequest("symbol must be a string, got %v", raw)
		}
		symbol = text
	}
	if !symbolPattern.MatchString(symbol) {
		return taskProof{}, badRequest("symbol must match %s, got %q", symbolPattern, symbol)
	}
	source := envValue(env, "PRICE_SOURCE_URL")
	if source == "" {
		source = defaultPriceSourceURL
	}
	price, timestamp, err := fetchPrice(source, symbol)
	if err != nil {
		return taskProof{}, err
	}
	// The source's own time when it sends one: the time of the quote, not of this run.
	report := priceReport{
		Price:     price,
		Round:     nextRound(uint64(time.Now().UnixMilli())),
		Symbol:    symbol,
		Timestamp: uint64(time.Now().Unix()),
	}
	if timestamp != nil {
		report.Timestamp = *timestamp
	}
	data, err := reportData(report)
	if err != nil {
		return taskProof{}, fmt.Errorf("report: %w", err)
	}
	cid, err := pinReport(report, env)
	if err != nil {
		return taskProof{}, err
	}
	return taskProof{ProofOfTask: cid, Data: data}, nil
}
