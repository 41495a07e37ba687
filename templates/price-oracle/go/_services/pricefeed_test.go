package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// priceFeed is a local price source in the format the avsctl devnet feed uses:
// GET /price?symbol=ETHUSDT -> {"symbol": "ETHUSDT", "price": "3000.00", "timestamp": 1700000000}.
type priceFeed struct {
	server *httptest.Server
	mu     sync.Mutex
	prices map[string]string
	URL    string
}

func startPriceFeed(prices map[string]string) *priceFeed {
	feed := &priceFeed{prices: prices}
	feed.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		symbol := r.URL.Query().Get("symbol")
		feed.mu.Lock()
		price, ok := feed.prices[symbol]
		feed.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/price" || !ok {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": "unknown symbol " + symbol})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"symbol": symbol, "price": price, "timestamp": 1700000000})
	}))
	feed.URL = feed.server.URL + "/price"
	return feed
}

func (f *priceFeed) Close() { f.server.Close() }
