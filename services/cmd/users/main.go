// Command users serves the UserService gRPC API.
package main

import (
	"flotilla/services/internal/platform"
	"flotilla/services/internal/users"
)

func main() { platform.Exec("users", users.Run) }
