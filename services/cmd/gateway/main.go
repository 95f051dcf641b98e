// Command gateway serves the public HTTP JSON API in front of the users service.
package main

import (
	"flotilla/services/internal/gateway"
	"flotilla/services/internal/platform"
)

func main() { platform.Exec("gateway", gateway.Run) }
