package main

// The price report, shared word for word by the execution service (which builds and pins it)
// and the validation service (which reads it back and checks it), and identical in the
// TypeScript, Python and Go versions of this template, so any of them can check the others' tasks:
//
//	canonical JSON = {"price":"<decimal>","round":<round>,"symbol":"<symbol>","timestamp":<unix seconds>}
//	                 exactly these keys in this order, no whitespace, ASCII only
//	data           = "0x" + lowercase hex of the UTF-8 bytes of the canonical JSON
//	proofOfTask    = the IPFS CID of the report, pinned with pinJSONToIPFS (ipfs.go)
//
// price matches pricePattern (a plain decimal string, as the source sent it), symbol matches
// symbolPattern, round and timestamp are integers from 0 to 2^53-1.
//
// round numbers the executions of one execution service process: max(previous round + 1,
// current time in ms), so each execution is its own task (its own task hash) even when the
// price and the source's timestamp have not moved, and rounds increase across restarts as long
// as the clock does.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	pricePattern     = regexp.MustCompile(`^(0|[1-9][0-9]{0,59})(\.[0-9]{1,30})?$`)
	symbolPattern    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
	timestampPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,15})$`)
	dataPattern      = regexp.MustCompile(`^0x([0-9a-fA-F]{2})*$`)
)

const (
	defaultPriceSourceURL = "https://api.binance.com/api/v3/ticker/price"
	defaultSymbol         = "ETHUSDT"
	defaultToleranceBps   = 100
	maxTimestamp          = 1<<53 - 1
)

type priceReport struct {
	Price     string
	Round     uint64
	Symbol    string
	Timestamp uint64
}

var (
	roundMu   sync.Mutex
	lastRound uint64
)

// nextRound is the next round of this process: max(previous round + 1, nowMs). The server
// answers requests concurrently, hence the lock.
func nextRound(nowMs uint64) uint64 {
	roundMu.Lock()
	defer roundMu.Unlock()
	lastRound = max(lastRound+1, nowMs)
	return lastRound
}

// canonicalJSON is the canonical text of a report, or an error when a field is outside the rule.
func canonicalJSON(r priceReport) (string, error) {
	if !pricePattern.MatchString(r.Price) {
		return "", fmt.Errorf("price %q is not a plain decimal", r.Price)
	}
	if !symbolPattern.MatchString(r.Symbol) {
		return "", fmt.Errorf("symbol %q is not allowed", r.Symbol)
	}
	if r.Round > maxTimestamp {
		return "", fmt.Errorf("round %d is too large", r.Round)
	}
	if r.Timestamp > maxTimestamp {
		return "", fmt.Errorf("timestamp %d is too large", r.Timestamp)
	}
	return fmt.Sprintf(`{"price":"%s","round":%d,"symbol":"%s","timestamp":%d}`, r.Price, r.Round, r.Symbol, r.Timestamp), nil
}

// reportData is data: the canonical JSON of the report as 0x-hex.
func reportData(r priceReport) (string, error) {
	text, err := canonicalJSON(r)
	if err != nil {
		return "", err
	}
	return "0x" + hex.EncodeToString([]byte(text)), nil
}

// decodeReport reads a report back from data; ok is false unless data is exactly the canonical
// JSON of a valid report (extra keys, other spacing or number forms are all refused).
func decodeReport(data any) (report priceReport, ok bool) {
	raw, ok := dataBytes(data)
	if !ok {
		return report, false
	}
	report, ok = parseReport(raw)
	if !ok {
		return report, false
	}
	canonical, _ := canonicalJSON(report)
	return report, canonical == string(raw)
}

// dataBytes decodes data, which must be a 0x-hex string.
func dataBytes(data any) ([]byte, bool) {
	text, isString := data.(string)
	if !isString || !dataPattern.MatchString(text) {
		return nil, false
	}
	raw, err := hex.DecodeString(text[2:])
	return raw, err == nil
}

// parseReport reads a JSON object holding exactly the four fields of a valid report, in any key
// order and spacing (as a pinning service or gateway may hand it back).
func parseReport(raw []byte) (report priceReport, ok bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || len(fields) != 4 {
		return report, false
	}
	if json.Unmarshal(fields["price"], &report.Price) != nil || json.Unmarshal(fields["symbol"], &report.Symbol) != nil {
		return report, false
	}
	if report.Round, ok = parseCount(fields["round"]); !ok {
		return report, false
	}
	if report.Timestamp, ok = parseCount(fields["timestamp"]); !ok {
		return report, false
	}
	_, err := canonicalJSON(report)
	return report, err == nil
}

// parseCount reads a JSON integer from 0 to 2^53-1 written in its plain form.
func parseCount(raw json.RawMessage) (uint64, bool) {
	if !timestampPattern.MatchString(string(raw)) {
		return 0, false
	}
	value, err := strconv.ParseUint(string(raw), 10, 64)
	return value, err == nil && value <= maxTimestamp
}

func scaled(decimal string, decimals int) *big.Int {
	whole, fraction, _ := strings.Cut(decimal, ".")
	value, _ := new(big.Int).SetString(whole+fraction+strings.Repeat("0", decimals-len(fraction)), 10)
	return value
}

func fractionDigits(decimal string) int {
	_, fraction, _ := strings.Cut(decimal, ".")
	return len(fraction)
}

// withinTolerance is exact decimal arithmetic: |claimed - reference| * 10000 <= bps * reference.
func withinTolerance(claimed, reference string, toleranceBps int64) bool {
	decimals := max(fractionDigits(claimed), fractionDigits(reference))
	a, b := scaled(claimed, decimals), scaled(reference, decimals)
	diff := new(big.Int).Abs(new(big.Int).Sub(a, b))
	left := diff.Mul(diff, big.NewInt(10000))
	right := new(big.Int).Mul(big.NewInt(toleranceBps), b)
	return left.Cmp(right) <= 0
}

func priceURL(sourceURL, symbol string) string {
	separator := "?"
	if strings.Contains(sourceURL, "?") {
		separator = "&"
	}
	return sourceURL + separator + "symbol=" + symbol
}

// fetchPrice reads {"price": "<decimal string>", "timestamp"?: <unix seconds>} from the source.
// The price must be a string, as a JSON number would print differently in each language.
func fetchPrice(sourceURL, symbol string) (price string, timestamp *uint64, err error) {
	url := priceURL(sourceURL, symbol)
	client := &http.Client{Timeout: 10 * time.Second}
	response, err := client.Get(url)
	if err != nil {
		return "", nil, fmt.Errorf("price source %s unreachable: %w", url, err)
	}
	defer response.Body.Close()
	if response.StatusCode < 200 || response.StatusCode > 299 {
		return "", nil, fmt.Errorf("price source %s answered HTTP %d", url, response.StatusCode)
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(response.Body).Decode(&body); err != nil ||
		json.Unmarshal(body["price"], &price) != nil || !pricePattern.MatchString(price) {
		return "", nil, fmt.Errorf(`price source %s did not answer {"price": "<decimal string>"}`, url)
	}
	if raw := string(body["timestamp"]); timestampPattern.MatchString(raw) {
		if value, err := strconv.ParseUint(raw, 10, 64); err == nil && value <= maxTimestamp {
			timestamp = &value
		}
	}
	return price, timestamp, nil
}
