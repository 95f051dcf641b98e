package logsetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Expiry deletes daily indices (Jaeger's `<prefix>jaeger-span-2006-01-02`, one per kind and day)
// once their day is more than AfterDays days past. Jaeger writes such indices and never deletes
// them; its chart's cleaner does not render in the pinned version, so this runs as a CronJob.
type Expiry struct {
	// Pattern names the indices, with wildcards: `flotilla-jaeger-*`.
	Pattern string
	// AfterDays is how many whole days an index is kept after its own day ends.
	AfterDays int
}

// dailySuffix is the date Jaeger puts at the end of a daily index's name (its default layout).
var dailySuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2})$`)

// listBodyLimit bounds the listing's answer: some 70 bytes an index, years of daily indices.
const listBodyLimit = 8 << 20

// deleteBatch bounds the index names of one DELETE, and so the request line's length.
const deleteBatch = 50

// loadExpiry reads EXPIRE_INDICES and EXPIRE_AFTER_DAYS; nil when the Job applies requests instead.
func loadExpiry(getenv func(string) string) (*Expiry, error) {
	pattern := getenv("EXPIRE_INDICES")
	if pattern == "" {
		return nil, nil
	}
	if strings.ContainsAny(pattern, ",/ ") || strings.Trim(pattern, "*") == "" {
		return nil, fmt.Errorf("EXPIRE_INDICES must be one index pattern such as flotilla-jaeger-*, got %q", pattern)
	}
	days, err := strconv.Atoi(getenv("EXPIRE_AFTER_DAYS"))
	if err != nil || days < 1 {
		return nil, fmt.Errorf("EXPIRE_AFTER_DAYS must be a whole number of days, at least 1, got %q", getenv("EXPIRE_AFTER_DAYS"))
	}
	return &Expiry{Pattern: pattern, AfterDays: days}, nil
}

// Expired returns the names whose day ended more than afterDays days before now (in UTC, as
// Jaeger names its indices), oldest first. A name without a date at its end is never expired.
func Expired(names []string, afterDays int, now time.Time) []string {
	today := now.UTC().Truncate(24 * time.Hour)
	cutoff := today.AddDate(0, 0, -afterDays)
	var expired []string
	for _, name := range names {
		match := dailySuffix.FindStringSubmatch(name)
		if match == nil {
			continue
		}
		day, err := time.Parse(time.DateOnly, match[1])
		if err == nil && day.Before(cutoff) {
			expired = append(expired, name)
		}
	}
	slices.SortFunc(expired, func(a, b string) int { return strings.Compare(dailySuffix.FindString(a), dailySuffix.FindString(b)) })
	return expired
}

// Expire deletes the pattern's expired indices: it lists them (the role needs
// view_index_metadata), then deletes them by name (delete_index), never by wildcard.
func Expire(ctx context.Context, client *http.Client, s Settings, e Expiry, now time.Time, log *slog.Logger) error {
	status, body, err := send(ctx, client, s, s.ElasticsearchURL, Request{
		Method: http.MethodGet,
		Path:   "/_resolve/index/" + url.PathEscape(e.Pattern) + "?expand_wildcards=open,closed",
	}, listBodyLimit)
	if err != nil {
		return fmt.Errorf("listing %s: %w", e.Pattern, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("listing %s: status %d: %s", e.Pattern, status, body)
	}
	var resolved struct {
		Indices []struct {
			Name string `json:"name"`
		} `json:"indices"`
	}
	if err := json.Unmarshal([]byte(body), &resolved); err != nil {
		return fmt.Errorf("listing %s: %w", e.Pattern, err)
	}
	names := make([]string, 0, len(resolved.Indices))
	for _, index := range resolved.Indices {
		names = append(names, index.Name)
	}
	expired := Expired(names, e.AfterDays, now)
	deleted := 0
	var errs []error
	for batch := range slices.Chunk(expired, deleteBatch) {
		list := strings.Join(batch, ",")
		status, body, err := send(ctx, client, s, s.ElasticsearchURL, Request{Method: http.MethodDelete, Path: "/" + list}, errorBodyLimit)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("deleting %s: %w", list, err))
		case status != http.StatusOK:
			errs = append(errs, fmt.Errorf("deleting %s: status %d: %s", list, status, body))
		default:
			deleted += len(batch)
			log.Info("deleted", "indices", batch)
		}
	}
	log.Info("expired", "pattern", e.Pattern, "after_days", e.AfterDays, "found", len(names), "deleted", deleted, "kept", len(names)-len(expired))
	return errors.Join(errs...)
}
