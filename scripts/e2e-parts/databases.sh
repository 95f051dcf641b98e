# Part "databases" of scripts/e2e: a managed database under the real CloudNativePG operator. The
# dev stack's program on a stack of its own, with users on a database of its own (the databases
# feature) and without monitoring, logging and tracing. The services and the PostgreSQL instances
# go to kwok's node, as PostgreSQL's image cannot be pulled here; the operator is the chart's pod
# on the real node (the e2e's operatorScheduling, from the dev stack's file), under the chart's
# RBAC, and serves the chart's admission webhooks, which the API server calls. Suite "databases"
# checks what the operator made, after up and after destroy.
databases() {
  pulumi stack init data >/dev/null
  cp "$project/Pulumi.dev.yaml" "$project/Pulumi.data.yaml"
  local key
  for key in monitoring logging tracing; do pulumi config set --stack data --path "$key.enabled" false --type bool; done
  pulumi config rm --stack data --path services.users.database
  pulumi config rm --stack data --path services.users.secretEnv
  pulumi config set --stack data --path services.users.database.type managed
  for key in services.users services.gateway databases; do
    pulumi config set --stack data --path "$key.scheduling.nodeSelector.type" kwok
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].key" "$kwok_taint_key"
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].value" fake
    pulumi config set --stack data --path "$key.scheduling.tolerations[0].effect" NoSchedule
  done

  local up second_up
  up=$(cli up data)
  log "databases: up $up"
  # The suite waits for the operator's reconciliation; the second up comes after it, so that what
  # the operator wrote into the Cluster (its defaults) is seen not to be a change.
  suite databases FLOTILLA_E2E_PHASE=deployed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml" FLOTILLA_E2E_NODE="$node_name"
  save_operator_logs
  second_up=$(cli up data)
  log "databases: second up $second_up"
  cli destroy data >/dev/null
  suite databases FLOTILLA_E2E_PHASE=destroyed FLOTILLA_E2E_STACK_FILE="$project/Pulumi.data.yaml" FLOTILLA_E2E_DATA_SECOND_UP="$second_up"
}
