# The charts' images the real node runs: the three operators and the OpenTelemetry Collector, each
# one's static binary, built from the Go module proxy by scripts/toolchain, packaged as its chart's
# image and laid out as upstream lays it out (entrypoint, user, the files it reads), then pushed to
# the e2e's registry under the chart's upstream path and tag. The stack takes them from there
# through `charts.imageRegistry`, as an air-gapped cluster takes every chart image from its mirror;
# the other chart images are never pulled, their pods being on kwok's node. Sourced by scripts/e2e
# after real-node.sh, whose scratch_image builds them.
#
# push_chart_images CACHE REGISTRY CHARTS: CHARTS is the chart mirror, whose packages give the
# tags (their appVersion); a binary of another version is refused, as it would run under a tag
# that is not its own.

push_chart_images() {
  local cache=$1 registry=$2 charts=$3
  local -A pinned
  local chart version
  while read -r chart version; do pinned[$chart]=$version; done < <(
    npx tsx -e 'import { charts } from "./components/charts/charts"; for (const c of Object.values(charts)) console.log(c.chart, c.version);'
  )
  # chart_image CHART REPOSITORY USER BINARY PATH [LINK]: BINARY at PATH, the entrypoint at
  # LINK (a symbolic link to PATH) when given, else PATH itself.
  chart_image() {
    local chart=$1 repository=$2 user=$3 binary=$4 path=$5 link=${6:-} tag built root
    tag=$(tar -xOzf "$charts/$chart-${pinned[$chart]}.tgz" "$chart/Chart.yaml" | sed -nE 's/^appVersion: *"?([^"]*)"?$/\1/p')
    built=$(basename "$(dirname "$binary")")
    [[ ${built%-static} == *-v${tag#v} ]] || die "$chart ${pinned[$chart]} runs $repository:$tag, but the toolchain built $built"
    root=$node/images/$chart
    mkdir -p "$root/$(dirname "$path")"
    cp "$binary" "$root/$path"
    chmod 0755 "$root/$path"
    [[ -z $link ]] || ln -s "${path#/}" "$root/$link"
    scratch_image "$registry" "$repository:$tag" "$root" "$user" "${link:-$path}"
    log "chart image $registry/$repository:$tag from $built"
  }
  # Upstream's layouts: prometheus-operator at /bin/operator as nobody; the ECK operator at
  # /elastic-operator; CloudNativePG's manager under /operator/manager_<arch>, which it also
  # copies into PostgreSQL's pods, with /manager a link to it; the collector's Kubernetes
  # distribution at /otelcol-k8s as user 10001, the chart giving only its --config.
  chart_image kube-prometheus-stack prometheus-operator/prometheus-operator 65534:65534 \
    "$(ls "$cache"/prometheus-operator-v*-static/operator | tail -1)" /bin/operator
  chart_image eck-operator eck/eck-operator 1001:1001 "$(ls "$cache"/eck-v*-static/elastic-operator | tail -1)" /elastic-operator
  chart_image cloudnative-pg cloudnative-pg/cloudnative-pg 65532:65532 \
    "$(ls "$cache"/cnpg-v*/manager | tail -1)" "/operator/manager_$(go env GOARCH)" /manager
  chart_image opentelemetry-collector otel/opentelemetry-collector-k8s 10001:10001 \
    "$(ls "$cache"/otelcol-v*/otelcol-flotilla | tail -1)" /otelcol-k8s
}
