# Part "render" of scripts/e2e: the real provider's manifests of the dev stack (the inline driver
# sets renderYamlToDirectory on the program's own provider through a transform, which no config
# key can reach), validated (suite "rendered") and linted, the charts' objects reported apart.
render() {
  export FLOTILLA_E2E_RENDER_DIR=$work/rendered
  local rendered
  rendered=$(driver render)
  log "render: $rendered"
  # FLOTILLA_E2E_KEEP=DIR keeps the rendered manifests for a look after the run.
  [[ -z ${FLOTILLA_E2E_KEEP:-} ]] || { rm -rf "$FLOTILLA_E2E_KEEP" && cp -r "$FLOTILLA_E2E_RENDER_DIR" "$FLOTILLA_E2E_KEEP"; }
  suite rendered
  scripts/lint-manifests "e2e=$FLOTILLA_E2E_RENDER_DIR" || fail "lint of the rendered manifests"
}
