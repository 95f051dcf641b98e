# Part "dev stack" of scripts/e2e: the dev stack through the command path. Preview with the policy
# pack, and the pull-request comment made from that real preview; up, in which the charts' ECK
# operator and prometheus-operator run on the real node (the e2e's operatorScheduling) and
# reconcile Elasticsearch and Prometheus under the charts' own RBAC; a second up that changes
# nothing (with FLOTILLA_E2E_TRACE set, a third one traced, and where it spent its time); destroy.
dev_stack() {
  # The policy suite (part consumer) reads whether this preview, with the pack, passed.
  echo failed >"$work/policy-dev.status"
  local preview
  preview=$(cli preview dev --policy-pack "$policy_analyzer")
  echo 0 >"$work/policy-dev.status"
  log "preview (policy pack passed): $preview"
  npx tsx scripts/preview-comment.ts --out "$work/comment.md" dev="$work/preview-dev.json"

  local up_start=$SECONDS up
  up=$(cli up dev)
  local up_seconds=$((SECONDS - up_start))
  log "up: $up in ${up_seconds}s (target <= 30 s)"
  echo "$up (${up_seconds}s)" >"$work/up.figure"
  suite deployed FLOTILLA_E2E_USERS_IMAGE="$users_image" FLOTILLA_E2E_GATEWAY_IMAGE="$gateway_image" FLOTILLA_E2E_GRAFANA_PASSWORD="$grafana_password" \
    FLOTILLA_E2E_GRAFANA_READER_PASSWORD="$grafana_reader_password" \
    FLOTILLA_E2E_SECRETS="$grafana_password $collector_password $tracing_password $grafana_reader_password $users_db_password"
  suite pods FLOTILLA_E2E_NODE="$node_name" FLOTILLA_E2E_PROBE_IMAGE="$probe_image" \
    FLOTILLA_E2E_NODE_PROCESSES="$node_processes" FLOTILLA_E2E_NODE_START_SECONDS="$node_start_seconds"
  suite logging FLOTILLA_E2E_NODE="$node_name"
  suite operator FLOTILLA_E2E_NODE="$node_name"
  # Figures: what the whole dev stack asks of a laptop, now that the operators made their pods.
  npx tsx bench/cluster-requests.ts || fail "cluster requests report"
  save_operator_logs

  step "second up"
  local second_up second_start=$SECONDS
  second_up=$(cli up dev)
  log "second up: $second_up in $((SECONDS - second_start))s (target <= 5 s)"
  if [[ -n ${FLOTILLA_E2E_TRACE:-} ]]; then
    # Where a second up spends its time, by its own trace: a third up, so the figure above stays untraced.
    cli up dev --otel-traces "file://$work/third-up-trace.jsonl" >/dev/null
    npx tsx bench/engineTrace.ts "$work/third-up-trace.jsonl" || fail "the third up's trace"
  fi
  suite changes FLOTILLA_E2E_PREVIEW="$preview" FLOTILLA_E2E_UP="$up" FLOTILLA_E2E_SECOND_UP="$second_up" FLOTILLA_E2E_COMMENT="$work/comment.md"

  step "destroy"
  local destroy_start=$SECONDS destroyed
  destroyed=$(cli destroy dev)
  log "destroy: $destroyed in $((SECONDS - destroy_start))s"
  suite destroyed FLOTILLA_E2E_NODE="$node_name"
}
