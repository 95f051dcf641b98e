# A Kubernetes control plane for the end-to-end tests: generated certificates, etcd on 127.0.0.1,
# kube-apiserver, kube-controller-manager, kube-scheduler, and kwok playing one node's kubelet
# (pods scheduled onto it are marked running and ready; nothing is executed). kwok's node is
# tainted: only pods that tolerate it go there (the charts' pods, by the stack's scheduling
# settings), and every other pod runs on the real node (scripts/lib/real-node.sh). Sourced by
# scripts/e2e after common.sh and with_work_dir; every process goes into $pids.
#
# start_test_cluster CACHE [ADDRESS]: the API server listens on ADDRESS (127.0.0.1 by default;
# the real node's address, so that its pods reach it); sets KUBECONFIG (exported), $certs and
# $api_server.

# The Service range; the real node's CoreDNS takes .10 of it, as on kind.
service_cidr=10.96.0.0/16
cluster_dns=10.96.0.10
# kwok's made-up pod and node addresses: nothing answers there, and the real node's harness
# routes them nowhere (unreachable), so that no packet to them leaves the machine.
kwok_pod_cidr=10.0.0.0/24
kwok_node_ip=10.0.1.1
kwok_taint_key=kwok.x-k8s.io/node

start_test_cluster() {
  local cache=$1 address=${2:-127.0.0.1} kube_bin etcd_bin kwok_bin
  kube_bin=$(ls -d "$cache"/kube-v*/ | tail -1)
  etcd_bin=$(ls -d "$cache"/etcd-v*/ | tail -1)
  kwok_bin=$(ls -d "$cache"/kwok-v*/ | tail -1)

  certs=$work/certs
  mkdir -p "$certs"
  (
    cd "$certs"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj "/CN=flotilla-e2e-ca" 2>/dev/null
    sign() { # name subject [san]
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 1 \
        ${3:+-extfile <(printf 'subjectAltName=%s' "$3")} 2>/dev/null
    }
    sign apiserver "/CN=kube-apiserver" "IP:$address,IP:127.0.0.1,DNS:localhost,IP:${service_cidr%.0/*}.1,DNS:kubernetes.default.svc"
    sign admin "/CN=flotilla-e2e-admin/O=system:masters"
    # The API server's client identity at the kubelets, for logs, exec and port-forward.
    sign kubelet-client "/CN=kube-apiserver-kubelet-client/O=system:masters"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )

  local etcd_port peer_port api_port
  etcd_port=$(free_port) peer_port=$(free_port)
  "$etcd_bin/etcd" --name e2e --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "e2e=http://127.0.0.1:$peer_port" \
    --log-level warn >"$work/etcd.log" 2>&1 &
  pids+=($!)

  # On the e2e's own network, 6443, as kubeadm and kind serve it: the `kubernetes` Service's
  # endpoint is this port, and the policies that let pods reach the API server (PostgreSQL's
  # instance manager) open 443 and 6443; no other server holds it there. On loopback (bench/engine,
  # no pods that run), a free port.
  if [[ $address == 127.0.0.1 ]]; then api_port=$(free_port); else api_port=6443; fi
  api_server=https://$address:$api_port
  "$kube_bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address "$address" \
    --advertise-address "$address" --secure-port "$api_port" --cert-dir "$certs" \
    --tls-cert-file "$certs/apiserver.crt" --tls-private-key-file "$certs/apiserver.key" --client-ca-file "$certs/ca.crt" \
    --service-account-key-file "$certs/sa.pub" --service-account-signing-key-file "$certs/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$service_cidr" \
    --kubelet-client-certificate "$certs/kubelet-client.crt" --kubelet-client-key "$certs/kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=false >"$work/apiserver.log" 2>&1 &
  pids+=($!)
  export KUBECONFIG=$work/kubeconfig
  kubectl config set-cluster e2e --server "$api_server" --certificate-authority "$certs/ca.crt" --embed-certs >/dev/null
  kubectl config set-credentials admin --client-certificate "$certs/admin.crt" --client-key "$certs/admin.key" --embed-certs >/dev/null
  kubectl config set-context e2e --cluster e2e --user admin >/dev/null
  kubectl config use-context e2e >/dev/null
  for _ in $(seq 120); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 0.5; done
  kubectl get --raw /readyz >/dev/null || die "kube-apiserver did not become ready: $(tail -5 "$work/apiserver.log")"
  log "API server $(kubectl version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') ready"

  "$kube_bin/kube-controller-manager" --kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 --secure-port "$(free_port)" \
    --leader-elect=false --service-account-private-key-file "$certs/sa.key" --root-ca-file "$certs/ca.crt" \
    --cluster-signing-cert-file "$certs/ca.crt" --cluster-signing-key-file "$certs/ca.key" >"$work/controller-manager.log" 2>&1 &
  pids+=($!)
  "$kube_bin/kube-scheduler" --kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 --secure-port "$(free_port)" \
    --leader-elect=false >"$work/scheduler.log" 2>&1 &
  pids+=($!)

  # kwok's own stage definitions (node start-up and heartbeat, pod ready, complete and delete),
  # read from its module in the Go module cache.
  local kwok_version stages stage stage_flags=()
  kwok_version=$(basename "$kwok_bin")
  stages=$(go env GOMODCACHE)/sigs.k8s.io/kwok@${kwok_version#kwok-}/kustomize/stage
  for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [[ -f $stages/$stage.yaml ]] || (cd /tmp && go mod download "sigs.k8s.io/kwok@${kwok_version#kwok-}")
    stage_flags+=(--config "$stages/$stage.yaml")
  done
  # Pod and node addresses are made up and nothing sends to them: nothing runs there, and the
  # stack's webhooks are off in the e2e. The node's is not loopback, because EndpointSlices refuse
  # loopback addresses, which hostNetwork pods (node-exporter) would otherwise get.
  "$kwok_bin/kwok" "${stage_flags[@]}" --kubeconfig "$KUBECONFIG" --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr "$kwok_pod_cidr" --node-ip "$kwok_node_ip" --server-address "127.0.0.1:$(free_port)" >"$work/kwok.log" 2>&1 &
  pids+=($!)
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    topology.kubernetes.io/zone: e2e-a
    type: kwok
spec:
  taints: [{ key: $kwok_taint_key, value: fake, effect: NoSchedule }]
status:
  allocatable: { cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi }
  capacity: { cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi }
YAML
  for _ in $(seq 60); do
    [[ $(kubectl get node kwok-node-0 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && break
    sleep 0.5
  done
  [[ $(kubectl get node kwok-node-0 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
    die "kwok did not make its node ready: $(tail -5 "$work/kwok.log")"
}
