# Part "databases" of scripts/e2e: a managed database under the real CloudNativePG operator. The
# dev stack's program on a stack of its own, with users on a database of its own (the databases
# feature) and without monitoring, logging and tracing. The services and the PostgreSQL instances
# go to kwok's node, as PostgreSQL's image cannot be pulled here. The operator runs outside the
# cluster, with the arguments and environment of the chart's Deployment, in a network namespace on
# the node's private network (its webhook server binds every address). The chart's webhooks are
# off, as the API server cannot reach a pod on kwok's node: the operator then admits each Cluster
# itself. Suite "databases" checks what the operator made, after up and after destroy.
databases() {
  pulumi stack init data >/dev/null
  cp "$project/Pulumi.dev.yaml" "$project/Pulumi.data.yaml"
  local key
  for key in monitoring logging tracing; do pulumi config set --stack data --path "$key.enabled" false --type bool; done
  pulumi config rm --stack data --path services.users.database
  pulumi config rm --stack data --path services.users.secretEnv
  pulumi config set --stack data --path services.users.database.type managed
  pulumi config set --stack data --path databases.admissionWebhooks false --type bool
  for key in services.users services.gateway databases; do
    pulumi config set --stack data --path "$key.scheduling.nodeSelector.type" kwok
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].key" "$kwok_taint_key"
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].value" fake
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].effect" NoSchedule
  done

  start_outside_namespace
  local dir=$work/cnpg
  mkdir -p "$dir/webhook" "$dir/operator"
  # The operator finds the instance manager it injects into PostgreSQL's pods, one binary per
  # architecture, at operator/manager_<arch> from its working directory, as its image lays it out.
  ln -s "$cnpg" "$dir/operator/manager_$(go env GOARCH)"
  # The webhook server's certificate, in the names that WEBHOOK_CERT_DIR asks for: with it the
  # operator makes no PKI of its own and patches no webhook configuration.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=cnpg-webhook-service \
    -keyout "$dir/webhook/apiserver.key" -out "$dir/webhook/apiserver.crt" 2>/dev/null
  (
    for _ in $(seq 600); do
      kubectl get crd clusters.postgresql.cnpg.io >/dev/null 2>&1 &&
        kubectl -n cnpg-system get deployment cnpg-cloudnative-pg -o json >"$dir/deployment.json" 2>/dev/null && break
      sleep 0.5
    done
    # The chart container's arguments, but leader election (no lease outside the cluster) and the
    # webhook port; its environment's plain values, the namespace for the one it takes from the pod.
    mapfile -t arguments < <(python3 -c 'import json,sys; [print(a) for a in json.load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]["args"] if not a.startswith(("--leader-elect", "--webhook-port"))]' "$dir/deployment.json")
    mapfile -t environment < <(python3 -c 'import json,sys; [print(e["name"] + "=" + e["value"]) for e in json.load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]["env"] if "value" in e]' "$dir/deployment.json")
    cd "$dir"
    exec ip netns exec "$outside_netns" env "${environment[@]}" OPERATOR_NAMESPACE=cnpg-system WEBHOOK_CERT_DIR="$dir/webhook" KUBECONFIG="$KUBECONFIG" \
      "$cnpg" "${arguments[@]}" --leader-elect=false --webhook-port 9443 --metrics-bind-address 0
  ) >"$work/cnpg.log" 2>&1 &
  part_pids+=($!)

  local up second_up
  up=$(cli up data)
  log "databases: up $up"
  # The suite waits for the operator's reconciliation; the second up comes after it, so that what
  # the operator wrote into the Cluster (its defaults) is seen not to be a change.
  suite databases FLOTILLA_E2E_PHASE=deployed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml"
  second_up=$(cli up data)
  log "databases: second up $second_up"
  cli destroy data >/dev/null
  suite databases FLOTILLA_E2E_PHASE=destroyed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml" FLOTILLA_E2E_DATA_SECOND_UP="$second_up"
}
