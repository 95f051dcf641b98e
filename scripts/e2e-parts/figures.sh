# Part "figures" of scripts/e2e: up and destroy of the dev stack without monitoring and logging,
# beside the whole stack's up (part "dev stack").
figures() {
  pulumi stack init bare >/dev/null
  cp "$project/Pulumi.dev.yaml" "$project/Pulumi.bare.yaml"
  pulumi config set --stack bare --path monitoring.enabled false --type bool
  pulumi config set --stack bare --path logging.enabled false --type bool
  local start=$SECONDS bare
  bare=$(cli up bare)
  local seconds=$((SECONDS - start))
  cli destroy bare >/dev/null
  log "figures: up of the dev stack with monitoring and logging $(cat "$work/up.figure" 2>/dev/null || echo '(not measured)'); without them $bare (${seconds}s)"
}
