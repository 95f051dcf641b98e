// Command reference is the benchmark's bare two-hop reference: the gateway's architecture
// (HTTP in, gRPC to a users server with the same proto) with none of the platform's middleware:
// no request ids, trace context, metrics, logs, deadlines, retries or in-flight limit. The
// gateway's cost over it is the platform's cost.
//
//	reference users ADDR [STATS_ADDR]
//	reference gateway ADDR USERS_ADDR [STATS_ADDR]
//
// STATS_ADDR serves /metrics with the one figure the benchmark reads from every process,
// go_memstats_mallocs_total (the heap allocations so far), on a listener of its own: nothing is
// added to the requests' path.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"

	usersv1 "flotilla/services/proto/users/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// user is the same JSON shape the gateway answers with.
type user struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type users struct {
	usersv1.UnimplementedUserServiceServer
}

func (users) GetUser(_ context.Context, req *usersv1.UserRequest) (*usersv1.UserResponse, error) {
	return &usersv1.UserResponse{UserId: req.GetUserId(), Name: "Alice", Email: "alice@example.com"}, nil
}

func main() {
	if len(os.Args) < 3 {
		log.Fatal("usage: reference users ADDR | reference gateway ADDR USERS_ADDR")
	}
	if stats := statsAddr(); stats != "" {
		go serveStats(stats)
	}
	switch os.Args[1] {
	case "users":
		listener, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		server := grpc.NewServer()
		usersv1.RegisterUserServiceServer(server, users{})
		log.Fatal(server.Serve(listener))
	case "gateway":
		conn, err := grpc.NewClient("dns:///"+os.Args[3], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			log.Fatal(err)
		}
		client := usersv1.NewUserServiceClient(conn)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			resp, err := client.GetUser(r.Context(), &usersv1.UserRequest{UserId: r.PathValue("id")})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(user{ID: resp.GetUserId(), Name: resp.GetName(), Email: resp.GetEmail()})
		})
		log.Fatal(http.ListenAndServe(os.Args[2], mux))
	}
}

// statsAddr is the optional last argument: the third of users, the fourth of gateway.
func statsAddr() string {
	if n := map[string]int{"users": 4, "gateway": 5}[os.Args[1]]; len(os.Args) == n {
		return os.Args[n-1]
	}
	return ""
}

func serveStats(addr string) {
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "go_memstats_mallocs_total %d\n", m.Mallocs)
	})))
}
