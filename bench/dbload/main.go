// Command dbload drives two gateways, one in front of users with its in-memory store and one in
// front of users on PostgreSQL, in alternating rounds (this machine's speed drifts from one minute
// to the next), reads (GET /v1/users/1) then creates (POST /v1/users, an email never used before),
// and prints each one's req/s and p99 beside the target: PostgreSQL's reads within 2× the
// in-memory req/s. It samples the database's connections all along. Any answer other than the
// expected one (200, 201) fails the run. bench/database starts what it drives.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

type load struct {
	name   string
	method string
	status int
	// request makes worker w's i-th request to base.
	request func(base string, round, w, i int) (*http.Request, error)
}

var loads = []load{
	{name: "GetUser", method: http.MethodGet, status: http.StatusOK, request: func(base string, _, _, _ int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, base+"/v1/users/1", nil)
	}},
	{name: "CreateUser", method: http.MethodPost, status: http.StatusCreated, request: func(base string, round, w, i int) (*http.Request, error) {
		body := fmt.Sprintf(`{"name":"Bench %d","email":"bench-%d-%d-%d-%d@example.com"}`, i, time.Now().UnixNano(), round, w, i)
		req, err := http.NewRequest(http.MethodPost, base+"/v1/users", bytes.NewBufferString(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}},
}

type figures struct {
	rps float64
	p99 time.Duration
}

// run sends requests from workers for d and returns req/s and p99; an unexpected answer is an error.
func run(client *http.Client, base string, l load, round, workers int, d time.Duration) (figures, error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failure   atomic.Pointer[error]
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own []time.Duration
			for i := 0; time.Now().Before(deadline) && failure.Load() == nil; i++ {
				req, err := l.request(base, round, w, i)
				if err != nil {
					failure.Store(&err)
					return
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != l.status {
						err = fmt.Errorf("%s %s: status %d, want %d", l.method, req.URL, resp.StatusCode, l.status)
					}
				}
				if err != nil {
					failure.Store(&err)
					return
				}
				own = append(own, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, own...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := failure.Load(); err != nil {
		return figures{}, *err
	}
	if len(latencies) == 0 {
		return figures{}, errors.New("no request completed")
	}
	slices.Sort(latencies)
	return figures{rps: float64(len(latencies)) / d.Seconds(), p99: latencies[len(latencies)*99/100]}, nil
}

// peakConnections samples the database's client connections every 50 ms until ctx ends.
func peakConnections(ctx context.Context, url string, peak *atomic.Int64) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int64
		// The sampler's own connection is left out.
		err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&n)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if n > peak.Load() {
			peak.Store(n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func median(values []float64) float64 {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func main() {
	memory := flag.String("memory", "", "base URL of the gateway in front of users on its in-memory store")
	postgres := flag.String("postgres", "", "base URL of the gateway in front of users on PostgreSQL")
	database := flag.String("database", "", "URL of users' database, whose connections are sampled")
	poolSize := flag.Int("pool", 0, "users' DATABASE_POOL_SIZE, printed beside the connections used")
	workers := flag.Int("c", 64, "concurrent requests")
	duration := flag.Duration("d", 3*time.Second, "length of each run")
	rounds := flag.Int("rounds", 5, "rounds of each store, alternating")
	flag.Parse()
	if *memory == "" || *postgres == "" || *database == "" || *rounds < 1 || *workers < 1 || *rounds > 50 || *duration > time.Minute {
		flag.Usage()
		os.Exit(2)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers}}

	ctx, stop := context.WithCancel(context.Background())
	var peak atomic.Int64
	sampled := make(chan error, 1)
	go func() { sampled <- peakConnections(ctx, *database, &peak) }()

	type key struct{ load, store string }
	rps := map[key][]float64{}
	p99 := map[key][]float64{}
	for round := range *rounds {
		for _, l := range loads {
			for _, store := range []struct{ name, url string }{{"memory", *memory}, {"postgres", *postgres}} {
				f, err := run(client, store.url, l, round, *workers, *duration)
				if err != nil {
					log.Fatalf("%s on %s, round %d: %v", l.name, store.name, round+1, err)
				}
				k := key{l.name, store.name}
				rps[k] = append(rps[k], f.rps)
				p99[k] = append(p99[k], float64(f.p99.Microseconds())/1000)
			}
		}
	}
	stop()
	if err := <-sampled; err != nil {
		log.Fatalf("sampling the database's connections: %v", err)
	}

	fmt.Printf("users through the gateway, %d concurrent requests, %d rounds of %s, medians:\n", *workers, *rounds, *duration)
	for _, l := range loads {
		m, p := key{l.name, "memory"}, key{l.name, "postgres"}
		ratio := median(rps[p]) / median(rps[m])
		fmt.Printf("  %-10s  in memory %7.0f req/s, p99 %6.1f ms;  PostgreSQL %7.0f req/s, p99 %6.1f ms;  PostgreSQL / memory %.2f×",
			l.name, median(rps[m]), median(p99[m]), median(rps[p]), median(p99[p]), ratio)
		if l.name == "GetUser" {
			verdict := "met"
			if ratio < 0.5 {
				verdict = "NOT met"
			}
			fmt.Printf("  (target: reads within 2× the in-memory req/s, >= 0.50×: %s)", verdict)
		}
		fmt.Println()
	}
	fmt.Printf("  database connections held by users at most: %d (its pool: %d)\n", peak.Load(), *poolSize)
}
