// Package logsetup applies the log pipeline's settings to Elasticsearch and Kibana through their
// APIs: the index template with its mappings and retention, and Kibana's data view. It runs as a
// Kubernetes Job after each deploy, and, with EXPIRE_INDICES set, as a CronJob that deletes
// expired daily indices (expire.go). Every request is idempotent (PUT, or Kibana's override), so
// the Job can run again at any time; each is retried until the services answer or the deadline
// passes, since Elasticsearch and Kibana start after the Job does.
package logsetup

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"flotilla/services/internal/platform"
)

// Request is one API call of the setup, as the Logging component writes them in requests.json.
type Request struct {
	// Target is "elasticsearch" or "kibana".
	Target string          `json:"target"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

// Settings come from the Job's environment.
type Settings struct {
	ElasticsearchURL string
	KibanaURL        string
	CAFile           string
	Username         string
	Password         string
	RequestsFile     string
	Deadline         time.Duration
	RetryEvery       time.Duration
	// Expiry, when set, makes the run delete expired indices instead of applying RequestsFile.
	Expiry *Expiry
}

// LoadSettings reads the environment; a missing or malformed value is a platform.ConfigError.
func LoadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		ElasticsearchURL: getenv("ELASTICSEARCH_URL"),
		KibanaURL:        getenv("KIBANA_URL"),
		CAFile:           getenv("CA_FILE"),
		Username:         platform.Env(getenv, "ELASTICSEARCH_USERNAME", "elastic"),
		RequestsFile:     platform.Env(getenv, "REQUESTS_FILE", "/config/requests.json"),
		RetryEvery:       5 * time.Second,
	}
	var errs []error
	if s.ElasticsearchURL == "" {
		errs = append(errs, errors.New("ELASTICSEARCH_URL is required"))
	}
	// The password comes as a file (a mounted Secret), never as an environment variable.
	if file := getenv("ELASTICSEARCH_PASSWORD_FILE"); file != "" {
		password, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("ELASTICSEARCH_PASSWORD_FILE: %w", err))
		}
		s.Password = strings.TrimSpace(string(password))
	}
	deadline, err := time.ParseDuration(platform.Env(getenv, "DEADLINE", "10m"))
	if err != nil || deadline <= 0 {
		errs = append(errs, fmt.Errorf("DEADLINE must be a positive duration such as 10m, got %q", getenv("DEADLINE")))
	}
	s.Deadline = deadline
	s.Expiry, err = loadExpiry(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Settings{}, platform.ConfigError{Err: errors.Join(errs...)}
	}
	return s, nil
}

// Run is the Job's main: it applies every request in order and fails on the first that cannot
// be applied before the deadline.
func Run(ctx context.Context, _ platform.Config, getenv func(string) string, log *slog.Logger) error {
	settings, err := LoadSettings(getenv)
	if err != nil {
		return err
	}
	client, err := newClient(settings.CAFile)
	if err != nil {
		return platform.ConfigError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, settings.Deadline)
	defer cancel()
	if settings.Expiry != nil {
		return Expire(ctx, client, settings, *settings.Expiry, time.Now(), log)
	}
	requests, err := readRequests(settings.RequestsFile)
	if err != nil {
		return platform.ConfigError{Err: err}
	}
	return Apply(ctx, client, settings, requests, log)
}

// Apply sends each request until it succeeds. A 4xx answer other than 408 and 429 is the
// request's own fault and fails at once; anything else is retried every RetryEvery.
func Apply(ctx context.Context, client *http.Client, s Settings, requests []Request, log *slog.Logger) error {
	for _, r := range requests {
		base := map[string]string{"elasticsearch": s.ElasticsearchURL, "kibana": s.KibanaURL}[r.Target]
		if base == "" {
			return platform.ConfigError{Err: fmt.Errorf("%s %s: no URL for target %q", r.Method, r.Path, r.Target)}
		}
		for attempt := 1; ; attempt++ {
			status, body, err := send(ctx, client, s, base, r, errorBodyLimit)
			if err == nil && status/100 == 2 {
				log.Info("applied", "target", r.Target, "method", r.Method, "path", r.Path, "status", status, "attempt", attempt)
				break
			}
			if err == nil && status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
				return fmt.Errorf("%s %s %s: refused with %d: %s", r.Target, r.Method, r.Path, status, body)
			}
			log.Warn("not applied yet", "target", r.Target, "path", r.Path, "status", status, "err", err, "attempt", attempt)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s %s %s: not applied before the deadline (last: status %d, %v)", r.Target, r.Method, r.Path, status, err)
			case <-time.After(s.RetryEvery):
			}
		}
	}
	return nil
}

// errorBodyLimit bounds what is read of an answer that is only logged or quoted in an error.
const errorBodyLimit = 2048

// send makes one request and returns its status and at most bodyLimit bytes of its answer.
func send(ctx context.Context, client *http.Client, s Settings, base string, r Request, bodyLimit int64) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	// Kibana refuses API writes without it (its CSRF protection).
	req.Header.Set("kbn-xsrf", "flotilla-logsetup")
	if s.Password != "" {
		req.SetBasicAuth(s.Username, s.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(body), nil
}

func readRequests(file string) ([]Request, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var requests []Request
	if err := json.Unmarshal(raw, &requests); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(requests) == 0 {
		return nil, fmt.Errorf("%s: no requests", file)
	}
	return requests, nil
}

// newClient trusts the cluster's CA (ECK's self-signed one) when CA_FILE is set, and nothing
// less: verification stays on.
func newClient(caFile string) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}
