package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The same report gives the same bytes in the TypeScript, Python and Go templates.
var knownReport = priceReport{Price: "3000.12", Round: 1700000000000, Symbol: "ETHUSDT", Timestamp: 1700000000}

const knownData = "0x7b227072696365223a22333030302e3132222c22726f756e64223a313730303030303030303030302c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d"

func TestCanonicalJSONHasFixedKeysAndNoWhitespace(t *testing.T) {
	text, err := canonicalJSON(knownReport)
	if err != nil || text != `{"price":"3000.12","round":1700000000000,"symbol":"ETHUSDT","timestamp":1700000000}` {
		t.Fatalf("canonicalJSON = %s, %v", text, err)
	}
}

func TestDataMatchesTheOtherLanguages(t *testing.T) {
	data, err := reportData(knownReport)
	if err != nil || data != knownData {
		t.Fatalf("reportData = %s %v", data, err)
	}
	if report, ok := decodeReport(data); !ok || report != knownReport {
		t.Fatalf("decodeReport = %+v %v", report, ok)
	}
}

func TestRoundsIncreaseByAtLeastOneAndNeverFallBehindTheClock(t *testing.T) {
	first := nextRound(uint64(time.Now().UnixMilli()))
	if got := nextRound(0); got != first+1 {
		t.Fatalf("after %d: %d", first, got)
	}
	if got := nextRound(first + 1000); got != first+1000 {
		t.Fatalf("ahead of the clock: %d", got)
	}
	if got := nextRound(first); got != first+1001 {
		t.Fatalf("behind the clock: %d", got)
	}
}

// feedAndIPFS runs a price feed with `prices` and an IPFS stand-in until the test ends, and
// returns the environment of a task in front of them.
func feedAndIPFS(t *testing.T, prices map[string]string) (*ipfsStandIn, map[string]string) {
	t.Helper()
	feed := startPriceFeed(prices)
	t.Cleanup(feed.Close)
	ipfs := startIPFSStandIn()
	t.Cleanup(ipfs.Close)
	return ipfs, ipfs.env(map[string]string{"PRICE_SOURCE_URL": feed.URL})
}

func TestPerformTaskFetchesPinsAndProves(t *testing.T) {
	ipfs, values := feedAndIPFS(t, map[string]string{"ETHUSDT": "3000.12", "BTCUSDT": "65000"})
	proof, err := performTask(map[string]any{"symbol": "BTCUSDT"}, mapEnv(values))
	if err != nil {
		t.Fatal(err)
	}
	report, ok := decodeReport(proof.Data)
	if !ok || report.Round == 0 || report != (priceReport{Price: "65000", Round: report.Round, Symbol: "BTCUSDT", Timestamp: 1700000000}) {
		t.Fatalf("report %+v %v", report, ok)
	}
	canonical, _ := canonicalJSON(report)
	if pinned, found := ipfs.get(proof.ProofOfTask); !found || string(pinned) != canonical {
		t.Fatalf("proofOfTask %s holds %q", proof.ProofOfTask, pinned)
	}
	values["PRICE_SYMBOL"] = "ETHUSDT"
	proof, err = performTask(map[string]any{}, mapEnv(values))
	if err != nil {
		t.Fatal(err)
	}
	if report, ok := decodeReport(proof.Data); !ok || report.Price != "3000.12" || report.Symbol != "ETHUSDT" {
		t.Fatalf("PRICE_SYMBOL default: %+v %v", report, ok)
	}
}

func TestTwoExecutionsOverTheSameQuoteAreTwoTasksInIncreasingRounds(t *testing.T) {
	_, values := feedAndIPFS(t, map[string]string{"ETHUSDT": "3000.12"})
	env := mapEnv(values)
	first, err1 := performTask(map[string]any{}, env)
	second, err2 := performTask(map[string]any{}, env)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if first.Data == second.Data || first.ProofOfTask == second.ProofOfTask {
		t.Fatalf("the same task twice: %+v", first)
	}
	a, okA := decodeReport(first.Data)
	b, okB := decodeReport(second.Data)
	if !okA || !okB || b.Round <= a.Round {
		t.Fatalf("rounds %d then %d", a.Round, b.Round)
	}
	b.Round = a.Round
	if a != b {
		t.Fatalf("reports differ beyond the round: %+v %+v", a, b)
	}
}

func TestBadSymbolIsBadInputAndUnknownSymbolASourceError(t *testing.T) {
	_, values := feedAndIPFS(t, map[string]string{"ETHUSDT": "1"})
	env := mapEnv(values)
	_, err := performTask(map[string]any{"symbol": "ETH USD"}, env)
	var he *httpError
	if !errors.As(err, &he) || he.status != 400 {
		t.Fatalf("bad symbol: %v", err)
	}
	if _, err := performTask(map[string]any{"symbol": "NOPE"}, env); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("unknown symbol: %v", err)
	}
}

func TestToleranceIsExactDecimalArithmetic(t *testing.T) {
	cases := []struct {
		claimed, reference string
		bps                int64
		want               bool
	}{
		{"101", "100", 100, true},
		{"101.01", "100", 100, false},
		{"99.000", "100", 100, true},
		{"3000.12000000", "3000.12", 0, true},
	}
	for _, c := range cases {
		if got := withinTolerance(c.claimed, c.reference, c.bps); got != c.want {
			t.Errorf("withinTolerance(%s, %s, %d) = %v", c.claimed, c.reference, c.bps, got)
		}
	}
	if got := priceURL("http://x/p?a=1", "ETHUSDT"); got != "http://x/p?a=1&symbol=ETHUSDT" {
		t.Errorf("priceURL = %s", got)
	}
}
