# Builds users and gateway and starts them on 127.0.0.1, for the scripts that test them for real.
# Sourced after common.sh and with_work_dir; the processes go into $pids.
#
# start_local_services [ENV=value ...]: sets $users_grpc, $users_ops, $gateway_http, $gateway_ops;
# each service's JSON log lines go to $work/<service>.log. Returns once the gateway is ready.
start_local_services() {
  (cd services && go build -o "$work/users" ./cmd/users && go build -o "$work/gateway" ./cmd/gateway)
  users_grpc=$(free_port) users_ops=$(free_port) gateway_http=$(free_port) gateway_ops=$(free_port)
  env "$@" LISTEN_ADDR="127.0.0.1:$users_grpc" OPS_ADDR="127.0.0.1:$users_ops" DEBUG_ADDR="127.0.0.1:$(free_port)" \
    "$work/users" >"$work/users.log" 2>"$work/users.err" &
  pids+=($!)
  env "$@" LISTEN_ADDR="127.0.0.1:$gateway_http" OPS_ADDR="127.0.0.1:$gateway_ops" DEBUG_ADDR="127.0.0.1:$(free_port)" \
    USERS_ADDR="127.0.0.1:$users_grpc" "$work/gateway" >"$work/gateway.log" 2>"$work/gateway.err" &
  pids+=($!)
  wait_ready "http://127.0.0.1:$users_ops"
  wait_ready "http://127.0.0.1:$gateway_ops"
}
