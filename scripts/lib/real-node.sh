# A real node for the test cluster, beside kwok's: a kubelet on Debian's containerd and runc,
# the CNI bridge on a private pod network, kube-proxy (iptables), CoreDNS as a pod answering
# cluster.local, and kube-router enforcing NetworkPolicies (firewall only). Its pods run the
# services' own images, pulled by digest from the e2e's registry. Measured facts and pitfalls:
# ../shared/notes/real-node.md. Sourced by scripts/e2e after test-cluster.sh.
#
# prepare_node_network: before the control plane (its API server listens on $node_ip): clears
#   what a crashed run left, makes the bridge, routes kwok's made-up ranges nowhere, and
#   registers the teardown (before_stop), which also runs when anything fails.
# start_real_node CACHE REGISTRY: builds the node's images (pause, CoreDNS, a busybox probe) into
#   REGISTRY, starts containerd, the kubelet, kube-proxy, kube-router and CoreDNS, and waits for
#   the node and DNS to be ready. Sets $probe_image, $node_start_seconds and $node_processes
#   ("name=pid ...", for the suites' memory figures).

node_name=flotilla-node-0
# The label that tells the real node from kwok's, for the stack's scheduling settings.
real_node_label=flotilla.dev/e2e-node
node_ip=10.244.0.1
pod_cidr=10.244.0.0/24
node_bridge=cni0

# The host paths the runtime writes to whatever its configuration says (see the notes).
runtime_host_paths=(/run/containerd /var/lib/kubelet /var/log/containers /var/log/pods)

prepare_node_network() {
  [[ $(id -u) == 0 ]] || die "the test cluster's real node needs root: it makes a bridge, iptables rules, mounts and cgroups"
  need_command pkill procps
  need_command containerd containerd
  need_command runc runc
  need_command iptables iptables
  need_command ipset ipset
  need_command conntrack conntrack
  need_command nft nftables
  need_command buildah buildah
  need_command gcc gcc
  # The probe image is busybox; the node starts before scripts/images-local would install it.
  need_command busybox busybox-static
  [[ -x /usr/lib/cni/bridge ]] || need_command /usr/lib/cni/bridge containernetworking-plugins
  node=$work/node
  node_pids=()
  node_processes=""
  mkdir -p "$node"
  clean_node_host_state
  # What the teardown restores: the forwarding switch (the bridge plugin turns it on), and the
  # nft tables that existed before (iptables-nft makes its tables on first use).
  cat /proc/sys/net/ipv4/ip_forward >"$node/ip_forward.before"
  nft list tables >"$node/nft-tables.before" 2>/dev/null || true
  # Any leftover path the runtime writes is from an earlier run: after the teardown, none stays.
  for path in "${runtime_host_paths[@]}"; do if [[ -e $path ]]; then echo "$path"; fi; done >"$node/host-paths.before"
  before_stop+=(stop_real_node)

  # A bridge whose address was never set takes the lowest of its ports' addresses, so deleting
  # the pod with that port changed it, and every pod's ARP entry for $node_ip went stale: for a
  # few seconds the pods' packets to this host (replies to clients here, PostgreSQL, the API
  # server) went nowhere, and requests through the gateway failed when an unrelated users pod
  # was deleted. A fixed, locally administered address keeps it.
  ip link add "$node_bridge" address "$(printf '02:00:%02x:%02x:%02x:%02x' ${node_ip//./ })" type bridge
  ip addr add "$node_ip/${pod_cidr#*/}" dev "$node_bridge"
  ip link set "$node_bridge" up
  local range
  for range in "$kwok_pod_cidr" "$kwok_node_ip/32"; do ip route add unreachable "$range"; done
}

start_real_node() {
  local cache=$1 registry=$2 kube_bin coredns_bin kube_router_bin start=$SECONDS
  kube_bin=$(ls -d "$cache"/kube-v*/ | tail -1)
  coredns_bin=$(ls "$cache"/coredns-v*/coredns | tail -1)
  kube_router_bin=$(ls "$cache"/kube-router-v*/kube-router | tail -1)

  node_images "$registry" "$coredns_bin" "$(basename "$(dirname "$coredns_bin")")"
  node_certificates
  start_containerd "$registry"
  start_kubelet "$kube_bin"
  start_kube_proxy "$kube_bin"
  "$kube_router_bin" --kubeconfig "$KUBECONFIG" --hostname-override "$node_name" --run-firewall=true --run-router=false \
    --run-service-proxy=false --enable-cni=false --enable-ipv6=false --service-cluster-ip-range "$service_cidr" \
    --health-port 0 --metrics-port 0 >"$work/kube-router.log" 2>&1 &
  node_pids+=($!)
  node_processes+=" kube-router=$!"
  start_coredns
  node_start_seconds=$((SECONDS - start))
  log "real node $node_name ready, DNS answering, in ${node_start_seconds}s"
}

# scratch_image REGISTRY NAME ROOT USER ENTRYPOINT [VAR=VALUE...]: the directory ROOT as the one
# layer of an image on scratch, run as USER with ENTRYPOINT and the environment given, pushed to
# REGISTRY as NAME; ROOT is removed.
scratch_image() {
  local registry=$1 name=$2 root=$3 user=$4 entrypoint=$5 container variable
  shift 5
  local storage=(--storage-driver vfs --root "$node/buildah/storage" --runroot "$node/buildah/run") environment=()
  for variable in "$@"; do environment+=(--env "$variable"); done
  tar -C "$root" -cf "$root.tar" .
  container=$(buildah "${storage[@]}" from scratch)
  buildah "${storage[@]}" add "$container" "$root.tar" / >/dev/null
  buildah "${storage[@]}" config --user "$user" --workingdir / --entrypoint "[\"$entrypoint\"]" "${environment[@]}" "$container"
  buildah "${storage[@]}" commit -q "$container" "localhost/$name" >/dev/null
  buildah "${storage[@]}" push -q --tls-verify=false "localhost/$name" "docker://$registry/$name" >/dev/null
  buildah "${storage[@]}" rm "$container" >/dev/null
  rm -rf "$root" "$root.tar"
}

# node_images REGISTRY COREDNS VERSION: the images no registry here serves, each a static binary
# alone on scratch, pushed to REGISTRY; the pods name them by tag like any image from a mirror.
node_images() {
  local registry=$1 coredns=$2 coredns_tag=${3#coredns-}
  mkdir -p "$node/images"
  gcc -static -O2 -o "$node/images/pause" scripts/lib/pause.c
  cp "$(command -v busybox)" "$node/images/busybox"
  cp "$coredns" "$node/images/coredns"
  # node_image NAME BINARY USER: /BINARY as the entrypoint.
  node_image() {
    local root=$node/images/$2.root
    mkdir -p "$root"
    cp "$node/images/$2" "$root/$2"
    scratch_image "$registry" "$1" "$root" "$3" "/$2"
  }
  node_image flotilla-e2e/pause:1 pause 65535:65535
  node_image "flotilla-e2e/coredns:$coredns_tag" coredns 65532:65532
  node_image flotilla-e2e/probe:1 busybox 65532:65532
  probe_image=$registry/flotilla-e2e/probe:1
  coredns_image=$registry/flotilla-e2e/coredns:$coredns_tag
  pause_image=$registry/flotilla-e2e/pause:1
}

node_certificates() {
  (
    cd "$certs"
    openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj "/CN=system:node:$node_name/O=system:nodes" 2>/dev/null
    openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out node.crt -days 1 2>/dev/null
  )
  node_kubeconfig=$node/kubeconfig
  KUBECONFIG=$node_kubeconfig kubectl config set-cluster e2e --server "$api_server" --certificate-authority "$certs/ca.crt" --embed-certs >/dev/null
  KUBECONFIG=$node_kubeconfig kubectl config set-credentials node --client-certificate "$certs/node.crt" --client-key "$certs/node.key" --embed-certs >/dev/null
  KUBECONFIG=$node_kubeconfig kubectl config set-context node --cluster e2e --user node >/dev/null
  KUBECONFIG=$node_kubeconfig kubectl config use-context node >/dev/null
}

start_containerd() {
  local registry=$1
  containerd_socket=$node/containerd.sock
  mkdir -p "$node/cni" "$node/certs.d/$registry"
  # The pod network: the bridge made above, addresses from the pod range, ports mapped.
  cat >"$node/cni/10-flotilla.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "flotilla-e2e",
  "plugins": [
    { "type": "bridge", "bridge": "$node_bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$node/cni-ipam", "ranges": [[{ "subnet": "$pod_cidr", "gateway": "$node_ip" }]],
        "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  # The e2e registry speaks plain HTTP on loopback.
  printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$registry" "$registry" >"$node/certs.d/$registry/hosts.toml"
  cat >"$node/containerd.toml" <<TOML
version = 2
root = "$node/containerd/root"
state = "$node/containerd/state"
[grpc]
  address = "$containerd_socket"
[ttrpc]
  address = "$node/containerd-ttrpc.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # Root in this VM lacks CAP_SYS_RESOURCE: without this, every sandbox fails to start.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$node/certs.d"
TOML
  containerd --config "$node/containerd.toml" >"$work/containerd.log" 2>&1 &
  node_pids+=($!)
  node_processes+=" containerd=$!"
  for _ in $(seq 100); do ctr --address "$containerd_socket" version >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "containerd did not start: $(tail -5 "$work/containerd.log")"
}

start_kubelet() {
  local kube_bin=$1
  kubelet_healthz_port=$(free_port)
  # Pods resolve through CoreDNS only: no search domain or server of the host leaks in.
  echo "nameserver $cluster_dns" >"$node/resolv.conf"
  cat >"$node/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: $certs/ca.crt }
# Only holders of the cluster CA's client certificates get past authentication (the API server's).
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
clusterDNS: [$cluster_dns]
clusterDomain: cluster.local
resolvConf: $node/resolv.conf
containerRuntimeEndpoint: unix://$containerd_socket
podLogsDir: $node/pod-logs
# containerd 1.6 cannot pin the sandbox image, which no registry but the e2e's serves.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 200Mi, nodefs.available: 1%, imagefs.available: 1% }
serializeImagePulls: false
registerNode: true
YAML
  "$kube_bin/kubelet" --config "$node/kubelet.yaml" --kubeconfig "$node_kubeconfig" --root-dir "$node/kubelet" \
    --hostname-override "$node_name" --node-ip "$node_ip" --cert-dir "$node/kubelet-pki" \
    --node-labels "$real_node_label=real" >"$work/kubelet.log" 2>&1 &
  node_pids+=($!)
  node_processes+=" kubelet=$!"
  for _ in $(seq 120); do
    [[ $(kubectl get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && return 0
    sleep 0.5
  done
  die "the kubelet's node did not become Ready: $(grep -E '^E' "$work/kubelet.log" | tail -5)"
}

start_kube_proxy() {
  local kube_bin=$1
  cat >"$node/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $KUBECONFIG }
hostnameOverride: $node_name
bindAddress: $node_ip
healthzBindAddress: 127.0.0.1:$(free_port)
metricsBindAddress: 127.0.0.1:$(free_port)
clusterCIDR: $pod_cidr
nodePortAddresses: [$node_ip/32]
iptables: { localhostNodePorts: false }
# Zero leaves the host's conntrack sysctls alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
  "$kube_bin/kube-proxy" --config "$node/kube-proxy.yaml" >"$work/kube-proxy.log" 2>&1 &
  node_pids+=($!)
  node_processes+=" kube-proxy=$!"
  kube_proxy_bin=$kube_bin/kube-proxy
}

# CoreDNS as kind runs it: a Deployment in kube-system behind the kube-dns Service, which the
# services' NetworkPolicies name as the one DNS they may ask. It reaches the API server through
# the kubernetes Service, and binds port 53 as a non-root user through the namespaced sysctl.
start_coredns() {
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: { name: coredns, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: "flotilla-e2e:coredns" }
rules:
  - { apiGroups: [""], resources: [services, pods, namespaces], verbs: [list, watch] }
  - { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "flotilla-e2e:coredns" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "flotilla-e2e:coredns" }
subjects: [{ kind: ServiceAccount, name: coredns, namespace: kube-system }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: coredns, namespace: kube-system }
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 5
        }
        cache 5
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: coredns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  replicas: 1
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata: { labels: { k8s-app: kube-dns } }
    spec:
      serviceAccountName: coredns
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: { type: RuntimeDefault }
        sysctls: [{ name: net.ipv4.ip_unprivileged_port_start, value: "0" }]
      containers:
        - name: coredns
          image: $coredns_image
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - { name: dns, containerPort: 53, protocol: UDP }
            - { name: dns-tcp, containerPort: 53, protocol: TCP }
          readinessProbe: { httpGet: { path: /ready, port: 8181 }, periodSeconds: 2 }
          livenessProbe: { httpGet: { path: /health, port: 8080 }, periodSeconds: 10 }
          resources: { requests: { cpu: 50m, memory: 32Mi }, limits: { memory: 128Mi } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
          volumeMounts: [{ name: config, mountPath: /etc/coredns, readOnly: true }]
      volumes: [{ name: config, configMap: { name: coredns } }]
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  clusterIP: $cluster_dns
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP }
    - { name: dns-tcp, port: 53, protocol: TCP }
YAML
  kubectl -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null ||
    die "CoreDNS did not become ready: $(kubectl -n kube-system get pods -o wide 2>&1; kubectl -n kube-system logs deployment/coredns 2>&1 | tail -5)"
}

# The teardown, in the order that worked (the notes): pods' processes, then the node's servers,
# then what they left on the host. Also run before a start, for what a crashed run left.
stop_real_node() {
  local i
  for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do
    [[ $(ps -o comm= -p "${node_pids[i]}" 2>/dev/null) == containerd ]] && continue
    kill "${node_pids[i]}" 2>/dev/null && wait "${node_pids[i]}" 2>/dev/null || true
  done
  [[ -n ${kube_proxy_bin:-} ]] && "$kube_proxy_bin" --cleanup >/dev/null 2>&1
  if [[ -S ${containerd_socket:-} ]]; then
    local task
    for task in $(ctr --address "$containerd_socket" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$containerd_socket" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
    for task in $(ctr --address "$containerd_socket" -n k8s.io containers ls -q 2>/dev/null); do
      ctr --address "$containerd_socket" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
      ctr --address "$containerd_socket" -n k8s.io containers delete "$task" >/dev/null 2>&1 || true
    done
  fi
  for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do
    kill "${node_pids[i]}" 2>/dev/null && wait "${node_pids[i]}" 2>/dev/null || true
  done
  node_pids=()
  clean_node_host_state
  [[ -f ${node:-}/ip_forward.before ]] && cat "$node/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
  if [[ -f ${node:-}/nft-tables.before ]]; then
    nft list tables 2>/dev/null | grep -vxF -f "$node/nft-tables.before" | while read -r _ family table; do
      nft delete table "$family" "$table" 2>/dev/null || true
    done || true
  fi
  if [[ -f ${node:-}/host-paths.before ]]; then
    local path
    for path in "${runtime_host_paths[@]}"; do grep -qxF "$path" "$node/host-paths.before" || rm -rf "$path"; done
  fi
  return 0
}

# What a node leaves on the host whatever its configuration: processes of a crashed run (only
# this harness's: named by its node or its containerd socket, never another cluster's), shims,
# mounts, chains, sets, the bridge and its veths, cgroups, routes. Safe to run when there is
# nothing to clean. It assumes the host runs no Kubernetes node of its own (a CI or test machine):
# KUBE-* chains and kubepods cgroups there would be removed too.
clean_node_host_state() {
  local tmp=${TMPDIR:-/tmp}
  pkill -9 -f -- "--hostname-override $node_name" 2>/dev/null || true
  pkill -9 -f "containerd-shim-runc-v2 .*-address $tmp/[^ ]*/node/containerd.sock" 2>/dev/null || true
  pkill -9 -f "containerd --config $tmp/[^ ]*/node/containerd.toml" 2>/dev/null || true
  local mount
  findmnt -rn -o TARGET | grep -E "^($tmp/[^/]+/node/|/run/containerd/|/var/lib/kubelet/)" | sort -r | while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done || true
  local table chain
  for table in filter nat mangle raw; do
    # Jumps from the built-in chains first, then the chains themselves.
    iptables -t "$table" -S 2>/dev/null | grep -E -- '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-)' |
      sed 's/^-A/-D/' | while read -r rule; do eval "iptables -t $table $rule" 2>/dev/null || true; done || true
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ { print $2 }'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ { print $2 }'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router|inet6:KUBE-)' | while read -r set; do ipset destroy "$set" 2>/dev/null || true; done || true
  local link
  for link in $(ip -o link show master "$node_bridge" 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do ip link delete "$link" 2>/dev/null || true; done
  ip link delete "$node_bridge" 2>/dev/null || true
  ip route del unreachable "$kwok_pod_cidr" 2>/dev/null || true
  ip route del unreachable "$kwok_node_ip/32" 2>/dev/null || true
  local controller
  for controller in /sys/fs/cgroup/*/kubepods; do
    if [[ -d $controller ]]; then find "$controller" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  return 0
}
