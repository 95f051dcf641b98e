// Command hello is the benchmark's baseline: the plainest net/http server, to compare the
// gateway's throughput with on the same machine in the same run.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"1","name":"Alice","email":"alice@example.com"}` + "\n"))
	})
	log.Fatal(http.ListenAndServe(os.Args[1], nil))
}
