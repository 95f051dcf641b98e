# Part "figures" of scripts/e2e: the dev stack without monitoring, logging and tracing, beside the
# whole stack's up (part "dev stack"); then the developer's inner loop on it: one line changed in a
# copy of the gateway's code, the images built and pushed (only what changed is rebuilt), up,
# and the new pods ready (up waits for the rollout). Suite "loop" checks what was rebuilt and
# what changed; the times are printed beside the 10 s target (issue #24). With FLOTILLA_E2E_TRACE, a
# second edit's up is traced and where it spent its time printed.
figures() {
  pulumi stack init bare >/dev/null
  cp "$project/Pulumi.dev.yaml" "$project/Pulumi.bare.yaml"
  pulumi config set --stack bare --path monitoring.enabled false --type bool
  pulumi config set --stack bare --path logging.enabled false --type bool
  pulumi config set --stack bare --path tracing.enabled false --type bool
  local start=$SECONDS bare
  bare=$(cli up bare)
  local seconds=$((SECONDS - start))
  log "figures: up of the dev stack with monitoring, logging and tracing $(cat "$work/up.figure" 2>/dev/null || echo '(not measured)'); without them $bare (${seconds}s)"

  step "inner loop: one line of the gateway changed"
  local loop=$work/loop
  mkdir -p "$loop"
  cp -r services "$loop/services"
  # A line that reaches the binary, unique to this run: a comment would build the same image, and
  # a change built in an earlier run would be found built already.
  sed -i "s/users service timed out/users service timed out (loop $(date +%s%N))/" "$loop/services/internal/gateway/handler.go"
  grep -q "timed out (loop " "$loop/services/internal/gateway/handler.go" || die "the inner loop's line to change is gone from handler.go"
  start=$SECONDS
  FLOTILLA_SERVICES_DIR=$loop/services FLOTILLA_STAGING_DIR=$loop/contexts scripts/images-local >"$loop/images.out" 2>"$loop/images.err"
  local build_seconds=$((SECONDS - start)) image
  image=$(awk '$1 == "gateway:" { print $2 }' "$loop/images.out")
  pulumi config set --stack bare --path services.gateway.image "$image"
  start=$SECONDS
  local changes
  changes=$(cli up bare)
  local up_seconds=$((SECONDS - start))
  local rebuilt
  rebuilt=$({ grep -o 'build [a-z]*: [0-9][0-9]*s$' "$loop/images.err" || true; } | awk '{ print $2 }' | tr -d : | paste -sd, -)
  log "inner loop: build and push ${build_seconds}s (rebuilt: ${rebuilt:-none}), up ${up_seconds}s ($changes), total $((build_seconds + up_seconds))s (target <= 10 s warm)"
  suite loop FLOTILLA_E2E_LOOP_REBUILT="$rebuilt" FLOTILLA_E2E_LOOP_CHANGES="$changes" FLOTILLA_E2E_LOOP_IMAGE="$image"
  if [[ -n ${FLOTILLA_E2E_TRACE:-} ]]; then
    # Where the loop's up spends its time, by its own trace: a second edit, so the figure above stays untraced.
    sed -i "s/users service timed out (loop [0-9]*)/users service timed out (loop $(date +%s%N))/" "$loop/services/internal/gateway/handler.go"
    FLOTILLA_SERVICES_DIR=$loop/services FLOTILLA_STAGING_DIR=$loop/contexts scripts/images-local >"$loop/images.out" 2>"$loop/images.err"
    pulumi config set --stack bare --path services.gateway.image "$(awk '$1 == "gateway:" { print $2 }' "$loop/images.out")"
    cli up bare --otel-traces "file://$work/loop-up-trace.jsonl" >/dev/null
    npx tsx bench/engineTrace.ts "$work/loop-up-trace.jsonl" || fail "the inner loop's traced up"
  fi
  cli destroy bare >/dev/null
}
