# Part "consumer" of scripts/e2e: examples/consumer, installed from the packed package
# (scripts/package-check), deployed to the same API server through the command path with its
# own Pulumi.yaml and config; then the policy pack's refusal of the same program with an image
# by tag (suite "policy", which also reads the dev stack's preview status).
consumer() {
  scripts/package-check "$work/package" >&2
  # pulumi and cli act on $project: here, by bash's dynamic scope, the consumer's.
  local project=$work/package/consumer token
  token=$(openssl rand -hex 16)
  install_provider_for "$project"
  pulumi stack init e2e >/dev/null
  pulumi config set --stack e2e image "$users_image"
  # Its frontend, the greeter's one caller: the gateway's image, whose upstream the greeter is.
  pulumi config set --stack e2e frontendImage "$gateway_image"
  pulumi config set --stack e2e apiToken "$token" --secret

  local status=0
  pulumi preview --stack e2e --policy-pack "$policy_analyzer" >"$work/policy-digest.out" 2>&1 || status=$?
  echo "$status" >"$work/policy-digest.status"
  local up second_up
  up=$(cli up e2e)
  second_up=$(cli up e2e)
  log "consumer: up $up, second up $second_up"
  suite consumer FLOTILLA_E2E_PHASE=deployed FLOTILLA_E2E_NODE="$node_name" FLOTILLA_E2E_CONSUMER_UP="$up" FLOTILLA_E2E_CONSUMER_SECOND_UP="$second_up" FLOTILLA_E2E_CONSUMER_TOKEN="$token"
  cli destroy e2e >/dev/null
  suite consumer FLOTILLA_E2E_PHASE=destroyed

  step "policy pack: a deliberately bad stack (an image by tag)"
  pulumi stack init tagged >/dev/null
  pulumi config set --stack tagged image registry.example/greeter:v1
  status=0
  pulumi preview --stack tagged --policy-pack "$policy_analyzer" >"$work/policy-tag.out" 2>&1 || status=$?
  suite policy FLOTILLA_E2E_POLICY_DEV_STATUS="$(cat "$work/policy-dev.status" 2>/dev/null)" \
    FLOTILLA_E2E_POLICY_DIGEST_STATUS="$(cat "$work/policy-digest.status")" FLOTILLA_E2E_POLICY_DIGEST_OUT="$work/policy-digest.out" \
    FLOTILLA_E2E_POLICY_TAG_STATUS="$status" FLOTILLA_E2E_POLICY_TAG_OUT="$work/policy-tag.out"
}
