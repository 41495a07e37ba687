package main

// HTTP and environment plumbing shared by the services (the same file in both).

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env looks a variable up; os.Getenv in production, a map in tests.
type Env func(string) string

// mapEnv is an Env over a fixed map.
func mapEnv(values map[string]string) Env {
	return func(name string) string { return values[name] }
}

// httpError carries the HTTP status the server answers with (400 for bad input), and its "data".
type httpError struct {
	status  int
	message string
	data    map[string]any
}

func (e *httpError) Error() string { return e.message }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// envValue trims a variable and treats an empty one (as in a copied .env.example) as unset.
func envValue(env Env, name string) string {
	return strings.TrimSpace(env(name))
}

// portFrom reads the service-specific variable first, then PORT, then the default.
func portFrom(env Env, specific string, fallback int) (int, error) {
	name := specific
	if envValue(env, specific) == "" {
		name = "PORT"
	}
	raw := envValue(env, name)
	if raw == "" {
		return fallback, nil
	}
	port, err := strconv.Atoi(raw)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("%s must be a port number, got %q", name, raw)
	}
	return port, nil
}

// loadEnvFiles reads KEY=VALUE files without overriding variables that are already set, so the
// devnet and Docker always win over a developer's .env.
func loadEnvFiles(files ...string) {
	for _, path := range files {
		file, err := os.Open(path)
		if err != nil {
			continue
		}
		scanner := bufio.NewScanner(file)
		for scanner.Scan() {
			line := strings.TrimSpace(scanner.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, value, found := strings.Cut(line, "=")
			if !found {
				continue
			}
			key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
			value = strings.TrimSpace(value)
			if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
				value = value[1 : len(value)-1]
			}
			if _, set := os.LookupEnv(key); !set {
				os.Setenv(key, value)
			}
		}
		file.Close()
	}
}

// route handles one endpoint: it gets the parsed JSON body and returns the JSON answer.
type route func(body map[string]any) (any, error)

func writeJSON(w http.ResponseWriter, status int, body any) {
	payload, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(status)
	w.Write(payload)
}

// newHandler serves GET /health and the given POST routes; every failure becomes the
// {"data": {}, "error": true, "message"} envelope of Othentic's JavaScript services.
func newHandler(service string, routes map[string]route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/health" {
			writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "service": service})
			return
		}
		handle, ok := routes[r.URL.Path]
		if !ok || r.Method != http.MethodPost {
			writeJSON(w, http.StatusNotFound, errorBody(fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
			return
		}
		body, err := readJSONBody(r)
		var answer any
		if err == nil {
			answer, err = handle(body)
		}
		if err != nil {
			status := http.StatusInternalServerError
			body := errorBody(err.Error())
			var he *httpError
			if errors.As(err, &he) {
				status = he.status
				if he.data != nil {
					body["data"] = he.data
				}
			}
			if status >= http.StatusInternalServerError {
				logFailure(service, r.Method, r.URL.Path, status, err.Error())
			}
			writeJSON(w, status, body)
			return
		}
		writeJSON(w, http.StatusOK, answer)
	})
}

// failureLog is where failed requests are written: stderr, the service's log.
var failureLog io.Writer = os.Stderr

// logFailure writes a request that failed on our side to the service's log: a caller's error
// says only "500".
func logFailure(service, method, path string, status int, message string) {
	if os.Getenv("LOG_FORMAT") == "json" {
		line, _ := json.Marshal(map[string]any{
			"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "error", "msg": "request failed",
			"service": service, "method": method, "path": path, "status": status, "error": message,
		})
		fmt.Fprintln(failureLog, string(line))
		return
	}
	fmt.Fprintf(failureLog, "%s: %s %s failed (%d): %s\n", service, method, path, status, message)
}

func errorBody(message string) map[string]any {
	return map[string]any{"data": map[string]any{}, "error": true, "message": message}
}

// readJSONBody parses a JSON object body. No Content-Type check: curl users often forget it,
// and silently reading nothing helps nobody. Numbers stay json.Number.
func readJSONBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return nil, badRequest("could not read the request body: %v", err)
	}
	if len(raw) > 1<<20 {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, message: "request body too large"}
	}
	if strings.TrimSpace(string(raw)) == "" {
		return map[string]any{}, nil
	}
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, badRequest("request body is not valid JSON")
	}
	object, ok := value.(map[string]any)
	if !ok {
		return nil, badRequest("request body must be a JSON object")
	}
	return object, nil
}
