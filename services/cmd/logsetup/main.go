// Command logsetup applies the log pipeline's index template and Kibana data view; it runs as a
// Kubernetes Job beside Elasticsearch.
package main

import (
	"flotilla/services/internal/logsetup"
	"flotilla/services/internal/platform"
)

func main() { platform.Exec("logsetup", logsetup.Run) }
