# Part "dev stack" of scripts/e2e: the dev stack through the command path. Preview with the policy
# pack, and the pull-request comment made from that real preview; up, with the real ECK operator
# reconciling Elasticsearch; the real prometheus-operator; a second up that changes nothing;
# destroy.
dev_stack() {
  # The policy suite (part consumer) reads whether this preview, with the pack, passed.
  echo failed >"$work/policy-dev.status"
  local preview
  preview=$(cli preview dev --policy-pack "$policy_analyzer")
  echo 0 >"$work/policy-dev.status"
  log "preview (policy pack passed): $preview"
  npx tsx scripts/preview-comment.ts --out "$work/comment.md" dev="$work/preview-dev.json"

  # The real ECK operator, in place of the chart's pod that kwok only marks running, with the
  # configuration the chart gives that pod (its ConfigMap). It starts once up has installed the
  # chart, and must run during up: up waits for it to reconcile Elasticsearch.
  (
    for _ in $(seq 600); do
      kubectl get crd elasticsearches.elasticsearch.k8s.elastic.co >/dev/null 2>&1 &&
        kubectl -n elastic-system get configmap elastic-operator -o 'jsonpath={.data.eck\.yaml}' >"$work/eck.yaml" 2>/dev/null &&
        [[ -s $work/eck.yaml ]] && break
      sleep 0.5
    done
    # Outside the cluster: no webhook server (the chart's webhook fails open), no metrics, no lease.
    exec "$eck" manager --config "$work/eck.yaml" --enable-webhook=false --metrics-port 0 --enable-leader-election=false
  ) >"$work/eck.log" 2>&1 &
  part_pids+=($!)
  local up_start=$SECONDS up
  up=$(cli up dev)
  local up_seconds=$((SECONDS - up_start))
  log "up: $up in ${up_seconds}s"
  echo "$up (${up_seconds}s)" >"$work/up.figure"
  suite deployed FLOTILLA_E2E_USERS_IMAGE="$users_image" FLOTILLA_E2E_GATEWAY_IMAGE="$gateway_image" FLOTILLA_E2E_GRAFANA_PASSWORD="$grafana_password"
  suite pods FLOTILLA_E2E_NODE="$node_name" FLOTILLA_E2E_PROBE_IMAGE="$probe_image" \
    FLOTILLA_E2E_NODE_PROCESSES="$node_processes" FLOTILLA_E2E_NODE_START_SECONDS="$node_start_seconds"
  suite logging

  step "prometheus-operator $(basename "$(dirname "$operator")"), with the chart Deployment's own arguments"
  local operator_args
  mapfile -t operator_args < <(kubectl -n monitoring get deployment monitoring-operator -o json |
    python3 -c 'import json,sys; [print(a) for a in json.load(sys.stdin)["spec"]["template"]["spec"]["containers"][0]["args"] if not a.startswith("--web.listen-address")]')
  "$operator" "${operator_args[@]}" --web.listen-address "127.0.0.1:$(free_port)" \
    --apiserver "$api_server" --ca-file "$certs/ca.crt" --cert-file "$certs/admin.crt" --key-file "$certs/admin.key" >"$work/operator.log" 2>&1 &
  local operator_pid=$!
  part_pids+=("$operator_pid")
  suite operator
  # Figures: what the whole dev stack asks of a laptop, now that the operators made their pods.
  npx tsx bench/cluster-requests.ts || fail "cluster requests report"
  kill "$operator_pid" 2>/dev/null || true

  step "second up"
  local second_up
  second_up=$(cli up dev)
  log "second up: $second_up"
  suite changes FLOTILLA_E2E_PREVIEW="$preview" FLOTILLA_E2E_UP="$up" FLOTILLA_E2E_SECOND_UP="$second_up" FLOTILLA_E2E_COMMENT="$work/comment.md"

  step "destroy"
  local destroy_start=$SECONDS destroyed
  destroyed=$(cli destroy dev)
  log "destroy: $destroyed in $((SECONDS - destroy_start))s"
  suite destroyed FLOTILLA_E2E_NODE="$node_name"
}
