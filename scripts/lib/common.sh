# Shared helpers for the project's scripts. Sourced, not run.

# Where built tools and downloads live: outside the repo, kept between runs.
cache_dir() {
  local dir="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}"
  mkdir -p "$dir"
  echo "$dir"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_command CMD DEBIAN_PACKAGE: installs the package when running as root in CI, else explains.
need_command() {
  local cmd=$1 package=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ ${CI:-} == true && $(id -u) == 0 ]]; then
    log "installing Debian package $package (for $cmd)"
    apt_updated_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    command -v "$cmd" >/dev/null 2>&1 && return 0
  fi
  die "$cmd is missing: install the Debian package '$package' (apt-get install $package)"
}

apt_updated_once() {
  [[ -n ${_FLOTILLA_APT_UPDATED:-} ]] && return 0
  apt-get update -qq >/dev/null
  _FLOTILLA_APT_UPDATED=1
}

# The Node.js this project runs on: Node 22 from the npm registry's `node` package, cached, so a
# machine whose own Node is older (or end-of-life) still runs the same one everywhere.
NODE_VERSION=22.23.3
use_node() {
  local current
  current=$(node --version 2>/dev/null || true)
  if [[ $current == v22.* || $current == v24.* ]]; then
    return 0
  fi
  local prefix
  prefix="$(cache_dir)/node-$NODE_VERSION"
  if [[ ! -x $prefix/node_modules/.bin/node ]]; then
    log "installing Node $NODE_VERSION from the npm registry into $prefix"
    npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "node@$NODE_VERSION" >/dev/null
  fi
  export PATH="$prefix/node_modules/.bin:$PATH"
  [[ $(node --version) == "v$NODE_VERSION" ]] || die "Node $NODE_VERSION did not install into $prefix"
}

# use_compile_cache: Node's on-disk compile cache for every Node process the engine starts, in the
# directory the program's own start (program-start.mjs) keeps it; a caller's own setting wins. The
# go builder's dynamic provider is one such process: its SDK loads in 0.48-0.65 s with it, 0.84-1.04 s
# without (docs/benchmarks.md).
use_compile_cache() {
  export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE-$(node -p 'require("node:path").join(require("node:os").tmpdir(), "node-compile-cache")')}"
}

# free_port: a loopback port nothing listens on now. Within with_work_dir it never repeats one it
# gave before ($work/.ports): two servers of one script would otherwise be told the same port. The
# port is from 20000 up to the kernel's ephemeral range and Kubernetes' NodePorts (30000), as
# services/internal/testnet's FreeAddr chooses: outgoing connections (the control plane's, the
# kubelet's) take their source ports from the ephemeral range, and could take a port from there
# before the server it was given to binds it.
free_port() {
  python3 - "${work:+$work/.ports}" <<'PY'
import os, random, socket, sys
record = sys.argv[1]
given = set(open(record).read().split()) if record and os.path.exists(record) else set()
try:
    ephemeral = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    ephemeral = 32768
low, high = 20000, min(ephemeral, 30000)
for _ in range(100):
    with socket.socket() as s:
        try:
            # The kernel's choice when the ephemeral range leaves no room below it.
            s.bind(("127.0.0.1", random.randrange(low, high) if high > low else 0))
        except OSError:
            continue  # in use
        port = str(s.getsockname()[1])
    if port not in given:
        break
else:
    sys.exit("free_port: no port that was not given out already, after 100 tries")
if record:
    with open(record, "a") as f:
        f.write(port + "\n")
print(port)
PY
}

# with_work_dir: sets $work to a new temporary directory and $pids to an empty list; on exit,
# whatever happens, the functions named in $before_stop run (newest first: a real node's
# teardown, which has an order of its own), then every process whose pid was added to $pids is
# stopped and $work removed.
with_work_dir() {
  work=$(mktemp -d)
  pids=()
  before_stop=()
  trap _stop_and_clean EXIT
  # A signal ends the script through its EXIT trap too, so that a stopped run cleans up.
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
# stop_process PID: SIGTERM, awaited; SIGKILL after 10 s. A test's server has nothing to save,
# and a kube-apiserver whose pod network is already gone spent 60-75 s draining on its way out.
stop_process() {
  local pid=$1 state
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    # An exited child stays a zombie until awaited: it counts as stopped.
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone)
    [[ $state == gone || $state == Z ]] && break
    sleep 0.1
  done
  if [[ $state != gone && $state != Z ]]; then
    log "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60) did not stop within 10 s of SIGTERM: killed"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
_stop_and_clean() {
  local i
  for ((i = ${#before_stop[@]} - 1; i >= 0; i--)); do
    "${before_stop[i]}" || true
  done
  # Newest first, each awaited: a server stops while what it depends on still runs (the API
  # server before etcd; otherwise it spends a minute retrying storage on its way out).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    stop_process "${pids[i]}"
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# start_registry: Debian's docker-registry on a free loopback port, its storage in $work; sets
# $registry (host:port) and adds the server to $pids.
start_registry() {
  need_command docker-registry docker-registry
  registry=127.0.0.1:$(free_port)
  cat >"$work/registry.yml" <<YAML
version: 0.1
storage:
  filesystem: { rootdirectory: $work/registry }
  delete: { enabled: true }
http:
  addr: $registry
YAML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://$registry/v2/" >/dev/null && return 0; sleep 0.1; done
  die "the registry on $registry did not answer: $(tail -5 "$work/registry.log")"
}

# wait_ready BASE_URL: waits up to 10 s for BASE_URL/readyz to answer 200, else fails.
wait_ready() {
  for _ in $(seq 200); do curl -fs "$1/readyz" >/dev/null && return 0; sleep 0.05; done
  die "$1/readyz did not answer 200 within 10 s"
}

# megabytes BYTES: "12.34 MB".
megabytes() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1048576 }'; }
