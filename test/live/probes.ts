/**
 * Connections tried from inside the cluster, with the busybox probe image the real node's harness
 * builds (scripts/lib/real-node.sh): from a service's own pod, as an ephemeral container that
 * shares its network and so its NetworkPolicy, or from a pod of its own in another namespace.
 * Every check of one source runs at once in one container; each prints one line of outcome.
 */
import { eventually, requiredEnv } from "./env";
import { get, kubectl, kubectlApply } from "./kube";

const probeImage = () => requiredEnv("FLOTILLA_E2E_PROBE_IMAGE");

/** One connection to try: a TCP connect, a DNS lookup, or an HTTP GET whose body is printed. */
export type Check =
  | { readonly id: string; readonly kind: "connect"; readonly host: string; readonly port: number }
  | { readonly id: string; readonly kind: "resolve"; readonly host: string }
  | { readonly id: string; readonly kind: "get"; readonly url: string };

/** What each check gave: "open" or "closed" (connect, resolve), or the body (get; "closed" on failure). */
export type Outcomes = Record<string, string>;

/** A shell script for busybox that runs every check at once and prints `<id> <outcome>` lines. */
function script(checks: readonly Check[]): string {
  const line = (check: Check) => {
    const report = (command: string) => `if ${command}; then echo "${check.id} open"; else echo "${check.id} closed"; fi`;
    switch (check.kind) {
      case "connect":
        // -e runs a program once connected: a refused, dropped or unroutable connect fails. Tried
        // up to four times: kube-router adds a new pod's address to the sets of the policies that
        // admit it on the pod's event, which a probe pod's first connect can beat (seen once in
        // the e2e, 2026-12-06). "closed" is then four refusals over some 15 s.
        return report(
          `(for attempt in 1 2 3 4; do /busybox nc -w 3 ${check.host} ${check.port} -e /busybox true 2>/dev/null && exit 0; /busybox sleep 1; done; exit 1)`,
        );
      case "resolve":
        return report(`/busybox timeout 5 /busybox nslookup ${check.host} >/dev/null 2>&1`);
      case "get":
        // Debian's busybox wget crashes with -T: the deadline comes from timeout instead.
        return `body=$(/busybox timeout 5 /busybox wget -qO- ${check.url} 2>/dev/null) && echo "${check.id} $body" || echo "${check.id} closed"`;
    }
  };
  return `${checks.map((check) => `(${line(check)}) &`).join("\n")}\nwait\n`;
}

function parse(logs: string, checks: readonly Check[]): Outcomes {
  const outcomes: Outcomes = {};
  for (const row of logs.split("\n")) {
    const space = row.indexOf(" ");
    if (space > 0) {
      outcomes[row.slice(0, space)] = row.slice(space + 1);
    }
  }
  const missing = checks.filter((c) => !(c.id in outcomes)).map((c) => c.id);
  if (missing.length > 0) {
    throw new Error(`the probe printed no outcome for ${missing.join(", ")}; it printed:\n${logs}`);
  }
  return outcomes;
}

/** The checks, from an ephemeral container in `pod`: with that pod's address and NetworkPolicy. */
export async function probeFromPod(namespace: string, pod: string, name: string, checks: readonly Check[]): Promise<Outcomes> {
  kubectl(
    "debug",
    "-n",
    namespace,
    `pod/${pod}`,
    "--image",
    probeImage(),
    "--profile",
    "restricted",
    "--container",
    name,
    "--",
    "/busybox",
    "sh",
    "-c",
    script(checks),
  );
  await eventually(`ephemeral container ${name} in ${pod} to finish`, 60, async () => {
    const status = get("-n", namespace, "pod", pod)?.status.ephemeralContainerStatuses?.find((s: any) => s.name === name);
    return status?.state?.terminated ? true : undefined;
  });
  return parse(kubectl("logs", "-n", namespace, pod, "-c", name), checks);
}

/** The checks, from a pod of their own in `namespace` (restricted, no labels of any service). */
export async function probeFromNamespace(namespace: string, name: string, checks: readonly Check[]): Promise<Outcomes> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "flotilla-e2e" } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "probe",
          image: probeImage(),
          command: ["/busybox", "sh", "-c", script(checks)],
          resources: { requests: { cpu: "10m", memory: "8Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
  await kubectlApply(pod);
  try {
    await eventually(`probe pod ${namespace}/${name} to finish`, 90, async () => {
      const phase = get("-n", namespace, "pod", name)?.status.phase;
      return phase === "Succeeded" || phase === "Failed" ? phase : undefined;
    });
    return parse(kubectl("logs", "-n", namespace, name), checks);
  } finally {
    kubectl("delete", "pod", "-n", namespace, name, "--wait=false");
  }
}
