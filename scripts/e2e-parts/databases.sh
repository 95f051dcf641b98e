# Part "databases" of scripts/e2e: users on a managed database, all of it running. The dev stack's
# program on a stack of its own, with users on a database of its own (the databases feature) and
# without monitoring, logging and tracing. The CloudNativePG operator is the chart's pod on the
# real node (the e2e's operatorScheduling, from the dev stack's file), under the chart's RBAC,
# serving the chart's admission webhooks, which the API server calls. The services and the
# PostgreSQL instances (a primary and a replica) run on the real node too: Debian's PostgreSQL
# packaged as upstream's image (scripts/lib/postgres.sh), each on a local volume of the node, bound through a
# storage class of the e2e's own, as kind's local-path would bind one. Suite "databases" checks
# what the operator made and the data kept through restarts, after up and after destroy; a real
# Prometheus on 127.0.0.1 scrapes the instance's metrics port with the database's rules loaded,
# the target and the rules written by the suite once it knows the pod (start_database_prometheus).
databases() {
  local storage_class=flotilla-e2e-local instances=2 volumes=() i
  push_postgres_image "$registry"
  kubectl apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: $storage_class }
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
YAML
  # A volume for each of the Cluster's instances (a primary and a streaming replica), on the real
  # node, owned by PostgreSQL's uid.
  for ((i = 1; i <= instances; i++)); do
    volumes+=("$node/volumes/users-db-$i")
    mkdir -p "${volumes[-1]}"
    chown 26:26 "${volumes[-1]}"
    chmod 0700 "${volumes[-1]}"
    kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: { name: users-db-$i }
spec:
  capacity: { storage: 2Gi }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: $storage_class
  local: { path: ${volumes[-1]} }
  nodeAffinity:
    required:
      nodeSelectorTerms: [{ matchExpressions: [{ key: kubernetes.io/hostname, operator: In, values: [$node_name] }] }]
YAML
  done

  pulumi stack init data >/dev/null
  cp "$project/Pulumi.dev.yaml" "$project/Pulumi.data.yaml"
  local key
  for key in monitoring logging tracing; do pulumi config set --stack data --path "$key.enabled" false --type bool; done
  pulumi config rm --stack data --path services.users.database
  pulumi config rm --stack data --path services.users.secretEnv
  pulumi config set --stack data --path services.users.database.type managed
  # The image is Debian's PostgreSQL: the Cluster asks for its major version.
  pulumi config set --stack data --path services.users.database.postgresVersion "$postgres_image_major"
  pulumi config set --stack data --path services.users.database.storageClass "$storage_class"
  pulumi config set --stack data --path services.users.database.instances "$instances" --type int

  start_database_prometheus

  local up second_up
  up=$(cli up data)
  log "databases: up $up"
  # What a managed database adds to a stack's requests: the operator's and the instance's pods.
  npx tsx bench/cluster-requests.ts || fail "cluster requests report"
  # The suite waits for the operator's reconciliation; the second up comes after it, so that what
  # the operator wrote into the Cluster (its defaults) is seen not to be a change.
  suite databases FLOTILLA_E2E_PHASE=deployed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml" FLOTILLA_E2E_NODE="$node_name" \
    FLOTILLA_E2E_PROBE_IMAGE="$probe_image" FLOTILLA_E2E_DATABASE_VOLUMES="${volumes[*]}" \
    PROMETHEUS_URL="http://127.0.0.1:$database_prometheus_port" FLOTILLA_E2E_PROMETHEUS_DIR="$work/database-prometheus"
  save_operator_logs
  second_up=$(cli up data)
  log "databases: second up $second_up"
  cli destroy data >/dev/null
  suite databases FLOTILLA_E2E_PHASE=destroyed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml" FLOTILLA_E2E_DATA_SECOND_UP="$second_up"
}

# start_database_prometheus: Debian's Prometheus, scraping the targets listed in a file the suite
# writes (none at first) and evaluating the rule files it writes there, reloaded on request.
# Stopped with the part (part_pids).
start_database_prometheus() {
  local dir=$work/database-prometheus
  mkdir -p "$dir"
  echo '[]' >"$dir/db-targets.json"
  database_prometheus_port=$(free_port)
  cat >"$dir/prometheus.yml" <<YAML
global: { scrape_interval: 2s, evaluation_interval: 2s }
rule_files: [db-rules*.yaml]
scrape_configs:
  - job_name: database
    file_sd_configs: [{ files: [db-targets.json], refresh_interval: 2s }]
YAML
  promtool check config "$dir/prometheus.yml" >/dev/null
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --web.enable-lifecycle \
    --web.listen-address="127.0.0.1:$database_prometheus_port" >"$dir/prometheus.log" 2>&1 &
  part_pids+=($!)
}
