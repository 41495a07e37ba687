package main

import (
	"errors"
	"strings"
	"testing"
)

// The same report gives the same bytes in the TypeScript, Python and Go templates.
const (
	knownProofOfTask = "0x276d17989b1610446cb63dae725f38d770f1bd63eac9cd07548bbc8f2302e391"
	knownData        = "0x7b227072696365223a22333030302e3132222c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d"
)

func TestCanonicalJSONHasFixedKeysAndNoWhitespace(t *testing.T) {
	text, err := canonicalJSON(priceReport{Price: "3000.12", Symbol: "ETHUSDT", Timestamp: 1700000000})
	if err != nil || text != `{"price":"3000.12","symbol":"ETHUSDT","timestamp":1700000000}` {
		t.Fatalf("canonicalJSON = %s, %v", text, err)
	}
}

func TestProofMatchesTheOtherLanguages(t *testing.T) {
	proof, data, err := buildProof(priceReport{Price: "3000.12", Symbol: "ETHUSDT", Timestamp: 1700000000})
	if err != nil || proof != knownProofOfTask || data != knownData {
		t.Fatalf("buildProof = %s %s %v", proof, data, err)
	}
}

func TestPerformTaskFetchesAndProves(t *testing.T) {
	feed := startPriceFeed(map[string]string{"ETHUSDT": "3000.12", "BTCUSDT": "65000"})
	defer feed.Close()
	proof, err := performTask(map[string]any{"symbol": "BTCUSDT"}, mapEnv(map[string]string{"PRICE_SOURCE_URL": feed.URL}))
	if err != nil {
		t.Fatal(err)
	}
	report, ok := decodeReport(proof.Data)
	if !ok || report != (priceReport{Price: "65000", Symbol: "BTCUSDT", Timestamp: 1700000000}) {
		t.Fatalf("report %+v %v", report, ok)
	}
	proof, err = performTask(map[string]any{}, mapEnv(map[string]string{"PRICE_SOURCE_URL": feed.URL, "PRICE_SYMBOL": "ETHUSDT"}))
	if err != nil || proof.ProofOfTask != knownProofOfTask || proof.Data != knownData {
		t.Fatalf("PRICE_SYMBOL default: %+v %v", proof, err)
	}
}

func TestBadSymbolIsBadInputAndUnknownSymbolASourceError(t *testing.T) {
	feed := startPriceFeed(map[string]string{"ETHUSDT": "1"})
	defer feed.Close()
	env := mapEnv(map[string]string{"PRICE_SOURCE_URL": feed.URL})
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
