// Command reference is the benchmark's bare two-hop reference: the gateway's architecture
// (HTTP in, gRPC to a users server with the same proto) with none of the platform's middleware:
// no request ids, trace context, metrics, logs, deadlines, retries or in-flight limit. The
// gateway's cost over it is the platform's cost.
//
//	reference users ADDR
//	reference gateway ADDR USERS_ADDR
package main

import (
	"context"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"os"

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
