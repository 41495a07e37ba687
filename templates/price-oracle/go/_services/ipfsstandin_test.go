package main

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// ipfsStandIn stands in for Pinata (and for `avsctl devnet up`'s IPFS node) in these tests:
// POST /pinning/pinJSONToIPFS stores pinataContent and answers {"IpfsHash": <cid>}, and
// GET /ipfs/<cid> serves it back (404 when unknown). Its ids have the shape of a CIDv0 (base58btc
// of 0x1220 + sha256 of the bytes), though IPFS would hash a UnixFS node rather than the bare
// bytes. failWith makes it answer every request with that HTTP status.
type ipfsStandIn struct {
	server   *httptest.Server
	mu       sync.Mutex
	content  map[string][]byte
	names    []string
	auth     []string
	failWith int
	// APIURL is PINATA_API_URL and Gateway PINATA_GATEWAY for a service in front of it.
	APIURL  string
	Gateway string
}

func startIPFSStandIn() *ipfsStandIn {
	s := &ipfsStandIn{content: map[string][]byte{}}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.APIURL = s.server.URL
	s.Gateway = s.server.URL + "/ipfs/"
	return s
}

func (s *ipfsStandIn) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	failWith := s.failWith
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if failWith != 0 {
		w.WriteHeader(failWith)
		w.Write([]byte(`{"error":"the stand-in is failing on purpose"}`))
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/pinning/pinJSONToIPFS":
		var body struct {
			PinataContent  json.RawMessage `json:"pinataContent"`
			PinataMetadata struct {
				Name string `json:"name"`
			} `json:"pinataMetadata"`
		}
		raw, _ := io.ReadAll(r.Body)
		if json.Unmarshal(raw, &body) != nil || len(body.PinataContent) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"expected {\"pinataContent\": ...}"}`))
			return
		}
		s.mu.Lock()
		s.names = append(s.names, body.PinataMetadata.Name)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		cid := s.put(body.PinataContent)
		json.NewEncoder(w).Encode(map[string]any{"IpfsHash": cid, "PinSize": len(body.PinataContent), "Timestamp": "2023-11-14T22:13:20Z"})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/ipfs/"):
		s.mu.Lock()
		content, ok := s.content[strings.TrimPrefix(r.URL.Path, "/ipfs/")]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"no such content"}`))
			return
		}
		w.Write(content)
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"not served"}`))
	}
}

// put stores bytes as they are and returns their id.
func (s *ipfsStandIn) put(content []byte) string {
	cid := cidV0Of(content)
	s.mu.Lock()
	s.content[cid] = append([]byte{}, content...)
	s.mu.Unlock()
	return cid
}

func (s *ipfsStandIn) get(cid string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	content, ok := s.content[cid]
	return content, ok
}

func (s *ipfsStandIn) fail(status int) {
	s.mu.Lock()
	s.failWith = status
	s.mu.Unlock()
}

// pins are the pinataMetadata names and Authorization headers of the pins received, in order.
func (s *ipfsStandIn) pins() (names []string, auth []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.names...), append([]string{}, s.auth...)
}

func (s *ipfsStandIn) Close() { s.server.Close() }

// env adds this stand-in's PINATA_API_URL and PINATA_GATEWAY to values.
func (s *ipfsStandIn) env(values map[string]string) map[string]string {
	out := map[string]string{"PINATA_API_URL": s.APIURL, "PINATA_GATEWAY": s.Gateway}
	for k, v := range values {
		out[k] = v
	}
	return out
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// cidV0Of is base58btc(0x12 0x20 || sha256(content)): "Qm" and 44 more characters.
func cidV0Of(content []byte) string {
	digest := sha256.Sum256(content)
	n := new(big.Int).SetBytes(append([]byte{0x12, 0x20}, digest[:]...))
	radix, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append([]byte{base58Alphabet[mod.Int64()]}, out...)
	}
	return string(out)
}
