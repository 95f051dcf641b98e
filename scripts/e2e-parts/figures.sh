# Part "figures" of scripts/e2e: the dev stack without monitoring, logging and tracing, beside the
# whole stack's up (part "dev stack"); then the go builder on it (suite "images": its image equals
# the Dockerfile's), and the developer's inner loop: one line changed in a copy of the gateway's
# code, up, which builds and pushes what changed and waits for the new pods to be ready. Suite
# "loop" checks what was rebuilt and what changed; the time is printed beside the 10 s target
# (issue #24). With FLOTILLA_E2E_TRACE, a second edit's up is traced and where it spent its time
# printed.
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

  step "the go builder: users and the gateway built by up, from a copy of their code"
  # Dev's builder, go: each service's image made by this machine's `go build` and pushed by the
  # registry's API inside `up` (components/image/goImage.ts), to the e2e's registry. Suite "images"
  # holds users' image to the one services/Dockerfile made of the same sources (scripts/images-local).
  local loop=$work/loop
  mkdir -p "$loop"
  cp -r services "$loop/services"
  [[ $(pulumi config get --stack bare --path images.builder) == go ]] || die "the dev stack's images.builder is no longer go"
  pulumi config set --stack bare --path registry.server "$registry"
  local service
  for service in users gateway; do
    pulumi config rm --stack bare --path "services.$service.image"
    pulumi config set --stack bare --path "services.$service.build.context" "$loop/services"
  done
  start=$SECONDS
  local changes
  changes=$(cli up bare)
  log "figures: up building users and the gateway with the go builder, rolled out: $((SECONDS - start))s ($changes)"
  suite images FLOTILLA_E2E_DOCKERFILE_IMAGE="$users_image"

  step "inner loop: one line of the gateway changed"
  # A line that reaches the binary, unique to this run: a comment would build the same image, and
  # a change built in an earlier run would be found built already.
  sed -i "s/users service timed out/users service timed out (loop $(date +%s%N))/" "$loop/services/internal/gateway/handler.go"
  grep -q "timed out (loop " "$loop/services/internal/gateway/handler.go" || die "the inner loop's line to change is gone from handler.go"
  # The engine's events (--json) name each step, for suite "loop" to check what was rebuilt; on a
  # failure, the lines among them that are not events say why.
  changes=$(cli up bare --json 2>"$loop/events.jsonl") || { grep -v '^{' "$loop/events.jsonl" >&2; die "the inner loop's up failed"; }
  log "inner loop: up $(cat "$work/command.seconds") s, the go build and push within it ($changes) (target <= 10 s warm)"
  suite loop FLOTILLA_E2E_LOOP_EVENTS="$loop/events.jsonl"
  if [[ -n ${FLOTILLA_E2E_TRACE:-} ]]; then
    # Where the loop's up spends its time, by its own trace: a second edit, so the figure above stays untraced.
    sed -i "s/users service timed out (loop [0-9]*)/users service timed out (loop $(date +%s%N))/" "$loop/services/internal/gateway/handler.go"
    cli up bare --otel-traces "file://$work/loop-up-trace.jsonl" >/dev/null
    npx tsx bench/engineTrace.ts "$work/loop-up-trace.jsonl" || fail "the inner loop's traced up"
  fi
  cli destroy bare >/dev/null
}
