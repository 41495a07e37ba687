package main

// The report in IPFS, as Othentic's simple-price-oracle keeps it: the execution service pins it
// through a Pinata-compatible pinning API and sends the CID as proofOfTask; the validation
// service reads it back through a gateway. Shared word for word by both services.
//
//	PINATA_API_URL  base URL of the pinning API       (default https://api.pinata.cloud)
//	PINATA_GATEWAY  gateway URL ending in /ipfs/       (default https://gateway.pinata.cloud/ipfs/)
//	PINATA_JWT      optional; sent to the pinning API as "Authorization: Bearer <jwt>"

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

const (
	defaultPinataAPIURL  = "https://api.pinata.cloud"
	defaultPinataGateway = "https://gateway.pinata.cloud/ipfs/"
	// A report is under 200 bytes; anything much larger at its CID is not one.
	maxReportBytes = 64 * 1024
)

// cidPattern: CIDv0 (base58btc "Qm..."), or CIDv1 in base32 ("b...", as bafy.../bafk...).
var cidPattern = regexp.MustCompile(`^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,120})$`)

var ipfsClient = &http.Client{Timeout: 10 * time.Second}

// pinReport pins the canonical JSON of a report with pinJSONToIPFS and returns its CID. Every
// failure is an HTTP 502: the pinning service, not the request, is at fault.
func pinReport(r priceReport, env Env) (string, error) {
	text, err := canonicalJSON(r)
	if err != nil {
		return "", err
	}
	// Written by hand so the pinned object keeps the canonical key order.
	body := fmt.Sprintf(`{"pinataContent":%s,"pinataMetadata":{"name":"price-report-%d"}}`, text, r.Round)
	base := envValue(env, "PINATA_API_URL")
	if base == "" {
		base = defaultPinataAPIURL
	}
	url := strings.TrimRight(base, "/") + "/pinning/pinJSONToIPFS"
	request, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return "", pinFailed("PINATA_API_URL %q is not a URL", base)
	}
	request.Header.Set("Content-Type", "application/json")
	if jwt := envValue(env, "PINATA_JWT"); jwt != "" {
		request.Header.Set("Authorization", "Bearer "+jwt)
	}
	response, err := ipfsClient.Do(request)
	if err != nil {
		return "", pinFailed("%s unreachable: %v", url, err)
	}
	defer response.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(response.Body, maxReportBytes))
	if response.StatusCode < 200 || response.StatusCode > 299 {
		hint := ""
		if response.StatusCode == http.StatusUnauthorized || response.StatusCode == http.StatusForbidden {
			hint = " (is PINATA_JWT set and valid?)"
		}
		return "", pinFailed("%s answered HTTP %d%s: %s", url, response.StatusCode, hint, excerpt(raw))
	}
	var answer struct {
		IpfsHash string `json:"IpfsHash"`
	}
	if json.Unmarshal(raw, &answer) != nil || !cidPattern.MatchString(answer.IpfsHash) {
		return "", pinFailed("%s answered without a CID in IpfsHash: %s", url, excerpt(raw))
	}
	return answer.IpfsHash, nil
}

// excerpt is the start of an answer, enough to show the pinning service's reason in a message.
func excerpt(raw []byte) string {
	text := strings.TrimSpace(string(raw))
	if len(text) > 300 {
		return text[:300] + "..."
	}
	return text
}

func pinFailed(format string, args ...any) error {
	return &httpError{status: http.StatusBadGateway, message: "pinning the report to IPFS failed: " + fmt.Sprintf(format, args...)}
}

// fetchFromIPFS reads the content at cid through PINATA_GATEWAY. found is false when the gateway
// answers a 4xx other than 408 and 429: it has no such content, a reason to reject. An
// unreachable gateway, a 5xx, a 408 (it timed out) or a 429 (rate limited) is an error: nothing
// is known about the content then.
func fetchFromIPFS(cid string, env Env) (content []byte, found bool, err error) {
	gateway := envValue(env, "PINATA_GATEWAY")
	if gateway == "" {
		gateway = defaultPinataGateway
	}
	if !strings.HasSuffix(gateway, "/") {
		gateway += "/"
	}
	url := gateway + cid
	response, err := ipfsClient.Get(url)
	if err != nil {
		return nil, false, fmt.Errorf("IPFS gateway %s unreachable: %w", url, err)
	}
	defer response.Body.Close()
	undecided := response.StatusCode == http.StatusRequestTimeout || response.StatusCode == http.StatusTooManyRequests
	if response.StatusCode >= 400 && response.StatusCode <= 499 && !undecided {
		return nil, false, nil
	}
	if response.StatusCode < 200 || response.StatusCode > 299 {
		return nil, false, fmt.Errorf("IPFS gateway %s answered HTTP %d", url, response.StatusCode)
	}
	content, err = io.ReadAll(io.LimitReader(response.Body, maxReportBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("IPFS gateway %s: %w", url, err)
	}
	return content, true, nil
}

// looksLikeCID tells whether proofOfTask has the shape of a CID.
func looksLikeCID(proofOfTask any) bool {
	text, ok := proofOfTask.(string)
	return ok && cidPattern.MatchString(text)
}
