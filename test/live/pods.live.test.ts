/**
 * The dev stack's pods on the test cluster's real node (scripts/lib/real-node.sh), as `pulumi up`
 * left them: started for real, through their probes, under Pod Security "restricted"; reached
 * through Service DNS and `kubectl port-forward`; gRPC calls balanced over users' pods; the
 * NetworkPolicies enforced, case by case from the services' declarations; rollouts and a lost pod
 * under a bounded load, without a failed read; the trace collector's own chart pod taking the
 * services' spans. Figures are printed beside their targets.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { tracingDefaults } from "../../components/tracing/defaults";
import { collectorEndpoint, collectorPodLabels } from "../../components/tracing/tracing";
import { eventually, requiredEnv } from "./env";
import { get, items, kubectl, kubectlApply, kubectlAsync, labelSelector, podState, ready, serviceUrl } from "./kube";
import { type LoadResult, underLoad } from "./load";
import { type Check, probeFromNamespace, probeFromPod } from "./probes";
import { counterTotal } from "./promql";
import { deployedConfig } from "./stackFile";

const namespace = "flotilla";
const node = requiredEnv("FLOTILLA_E2E_NODE");
/** The services as the stack declares them, with the contract's defaults filled in. */
const services = deployedConfig().services as Record<string, ReturnType<typeof deployedConfig>["services"][string] & { database?: ExternalDatabase }>;
type ExternalDatabase = { readonly type: string; readonly cidr?: string; readonly port: number };
const monitoringNamespace = "monitoring";
/** The trace collector, when the stack traces: its Service's name and the two ports it opens. */
const collector = deployedConfig().tracing?.enabled
  ? { host: new URL(collectorEndpoint).hostname, otlpPort: tracingDefaults.otlpPort, metricsPort: tracingDefaults.collectorMetricsPort }
  : undefined;
/** The trace collector's pods, found by the chart's selector labels that its policy selects too. */
const collectorPods = () =>
  items("-n", tracingDefaults.namespace, "pods", "-l", labelSelector(collectorPodLabels)).filter((p) => !p.metadata.deletionTimestamp);
const collectorSource = "the collector";
/** A namespace of no feature, with no policy of its own; new each run, as deleting one takes a while. */
const scratchNamespace = `flotilla-e2e-outsider-${Date.now().toString(36)}`;
const figures: string[] = [];
const figure = (line: string) => figures.push(line);

const podsOf = (service: string) => items("-n", namespace, "pods", "-l", `app.kubernetes.io/name=${service}`).filter((p) => !p.metadata.deletionTimestamp);
const host = (service: string) => `${service}.${namespace}.svc.cluster.local`;
const gatewayUrl = () => serviceUrl(namespace, "gateway", services.gateway?.port);

/** Resident memory of the node's processes and of the containers' shims, from /proc. */
function nodeMemory(): string {
  // A process that just exited, or has no resident set (a zombie), counts as 0.
  const rss = (pid: string) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  const processes = requiredEnv("FLOTILLA_E2E_NODE_PROCESSES")
    .trim()
    .split(/\s+/)
    .map((entry) => entry.split("=") as [string, string]);
  const shims = fs
    .readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "containerd-shim";
      } catch {
        return false;
      }
    });
  const shimTotal = shims.reduce((sum, pid) => sum + rss(pid), 0);
  return [...processes.map(([name, pid]) => `${name} ${rss(pid).toFixed(0)} MiB`), `${shims.length} shims ${shimTotal.toFixed(0)} MiB`].join(", ");
}

afterAll(() => {
  figure(`real node started (containerd, kubelet, kube-proxy, kube-router, CoreDNS ready) in ${requiredEnv("FLOTILLA_E2E_NODE_START_SECONDS")} s`);
  figure(`memory (RSS): ${nodeMemory()}`);
  kubectl("delete", "namespace", scratchNamespace, "--ignore-not-found", "--wait=false");
  console.log(["figures (real node):", ...figures.map((f) => `  ${f}`)].join("\n"));
});

describe("the services' pods on the real node", () => {
  it("run there, every one Ready through its real probes, as user 65532 on a read-only root with no capabilities", async () => {
    for (const name of Object.keys(services)) {
      const pods = podsOf(name);
      expect(pods.length, name).toBeGreaterThan(0);
      for (const pod of pods) {
        const state = podState(pod);
        expect(pod.spec.nodeName, pod.metadata.name).toBe(node);
        expect(ready(pod), state).toBe(true);
        expect(pod.status.containerStatuses[0].restartCount, state).toBe(0);
        const context = pod.spec.containers[0].securityContext;
        expect(context).toMatchObject({ runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        // A process answers on the pod's own address: the kubelet's probes reached a real server.
        const opsPort = services[name]?.opsPort;
        const readyz = await fetch(`http://${pod.status.podIP}:${opsPort}/readyz`, { signal: AbortSignal.timeout(3000) });
        expect(readyz.status, `${pod.metadata.name} /readyz`).toBe(200);
        const created = Date.parse(pod.metadata.creationTimestamp);
        const readyAt = Date.parse(pod.status.conditions.find((c: any) => c.type === "Ready").lastTransitionTime);
        figure(`${pod.metadata.name}: created to Ready in ${((readyAt - created) / 1000).toFixed(0)} s`);
      }
    }
  });

  it("answer through `kubectl port-forward svc/gateway`, as the README tells users, from users through Service DNS", async () => {
    const forward: ChildProcess = spawn("kubectl", ["port-forward", "-n", namespace, "svc/gateway", `:${services.gateway?.port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        forward.stdout?.on("data", (chunk) => {
          out += String(chunk);
          const match = /127\.0\.0\.1:(\d+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        forward.on("exit", (code) => reject(new Error(`kubectl port-forward exited (${code}): ${out}`)));
        setTimeout(() => reject(new Error(`kubectl port-forward printed no port in 15 s: ${out}`)), 15_000);
      });
      const response = await fetch(`http://127.0.0.1:${port}/v1/users/1`, { signal: AbortSignal.timeout(5000) });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id: "1", email: "alice@example.com" });
    } finally {
      forward.kill();
    }
  });
});

describe("NetworkPolicies, enforced by kube-router, case by case from the declarations", async () => {
  kubectl("create", "namespace", scratchNamespace);
  kubectl("label", "namespace", scratchNamespace, "pod-security.kubernetes.io/enforce=restricted");
  const names = Object.keys(services);
  type Case = { readonly source: string; readonly check: Check; readonly expected: string; readonly why: string };
  const connect = (to: string, port: "port" | "opsPort"): Check => ({
    id: `${to}:${port}`,
    kind: "connect",
    host: host(to),
    port: services[to]?.[port] as number,
  });
  const cases: Case[] = [];
  for (const from of names) {
    for (const to of names.filter((n) => n !== from)) {
      const calls = services[from]?.calls.includes(to) ?? false;
      cases.push({ source: from, check: connect(to, "port"), expected: calls ? "open" : "closed", why: calls ? "a declared callee" : "not among its calls" });
      cases.push({ source: from, check: connect(to, "opsPort"), expected: "closed", why: "only the monitoring namespace scrapes" });
      cases.push({ source: from, check: { id: `dns:${to}`, kind: "resolve", host: host(to) }, expected: "open", why: "DNS is open to every service" });
    }
  }
  for (const to of names) {
    const exposed = services[to]?.expose ?? false;
    cases.push({
      source: scratchNamespace,
      check: connect(to, "port"),
      expected: exposed ? "open" : "closed",
      why: exposed ? "exposed" : "an undeclared caller",
    });
    cases.push({ source: scratchNamespace, check: connect(to, "opsPort"), expected: "closed", why: "not the monitoring namespace" });
    cases.push({ source: monitoringNamespace, check: connect(to, "opsPort"), expected: "open", why: "Prometheus' namespace scrapes" });
    cases.push({
      source: monitoringNamespace,
      check: connect(to, "port"),
      expected: exposed ? "open" : "closed",
      why: exposed ? "exposed" : "the monitoring namespace reaches the ops port only",
    });
  }
  // An external database is reachable from its own service's pods alone (their egress policy).
  for (const [owner, service] of Object.entries(services)) {
    const database = service.database;
    if (database?.type !== "external" || database.cidr === undefined) continue;
    const address = database.cidr.replace(/\/32$/, "");
    for (const from of names) {
      const mine = from === owner;
      cases.push({
        source: from,
        check: { id: `${owner}-database`, kind: "connect", host: address, port: database.port },
        expected: mine ? "open" : "closed",
        why: mine ? "its own database" : `${owner}'s database`,
      });
    }
  }
  // The trace collector: each service sends spans to its OTLP port (tracing's egress path), only
  // Prometheus' namespace reads its metrics, and no one else reaches either.
  if (collector) {
    const toCollector = (port: "otlpPort" | "metricsPort"): Check => ({
      id: `collector:${port}`,
      kind: "connect",
      host: collector.host,
      port: collector[port],
    });
    for (const from of names) {
      cases.push({ source: from, check: toCollector("otlpPort"), expected: "open", why: "every service sends its spans" });
      cases.push({ source: from, check: toCollector("metricsPort"), expected: "closed", why: "only the monitoring namespace scrapes it" });
    }
    cases.push({ source: scratchNamespace, check: toCollector("otlpPort"), expected: "closed", why: "not an app namespace" });
    cases.push({ source: monitoringNamespace, check: toCollector("metricsPort"), expected: "open", why: "Prometheus' namespace scrapes it" });
    cases.push({ source: monitoringNamespace, check: toCollector("otlpPort"), expected: "closed", why: "not an app namespace" });
    // From the collector's own pod: it sends to Jaeger alone, and DNS.
    for (const to of names) {
      cases.push({ source: collectorSource, check: connect(to, "port"), expected: "closed", why: "the collector sends to Jaeger alone" });
      cases.push({
        source: collectorSource,
        check: { id: `dns:${to}`, kind: "resolve", host: host(to) },
        expected: "open",
        why: "DNS is open to the collector",
      });
    }
  }
  // A pod outside the stack reaches the gateway's ClusterIP by its DNS name, which answers from users.
  const viaGateway: Check = { id: "gateway-get", kind: "get", url: `http://${host("gateway")}:${services.gateway?.port}/v1/users/1` };

  const sources = [...new Set(cases.map((c) => c.source))];
  /** The pod a source probes from when it is one of the stack's own (a service, the collector), not a namespace. */
  const ownPod = (source: string) =>
    source in services
      ? { namespace, pod: podsOf(source)[0]?.metadata.name }
      : source === collectorSource
        ? { namespace: tracingDefaults.namespace, pod: collectorPods()[0]?.metadata.name }
        : undefined;
  const outcomes = Object.fromEntries(
    await Promise.all(
      sources.map(async (source) => {
        const checks = cases.filter((c) => c.source === source).map((c) => c.check);
        const own = ownPod(source);
        if (own) {
          return [source, await probeFromPod(own.namespace, own.pod, `netcheck-${Date.now().toString(36)}`, checks)] as const;
        }
        const extra = source === scratchNamespace ? [viaGateway] : [];
        return [source, await probeFromNamespace(source, "flotilla-e2e-probe", [...checks, ...extra])] as const;
      }),
    ),
  );
  figure(`NetworkPolicy cases: ${cases.length}, from ${sources.length} sources`);

  it.each(cases.map((c) => [`${c.source} -> ${c.check.id}: ${c.expected} (${c.why})`, c] as const))("%s", (_title, c) => {
    expect(outcomes[c.source]?.[c.check.id]).toBe(c.expected);
  });

  it("lets a pod outside the stack reach the gateway's ClusterIP by its name, answered from users", () => {
    expect(JSON.parse(outcomes[scratchNamespace]?.[viaGateway.id] ?? "{}")).toMatchObject({ id: "1", email: "alice@example.com" });
  });
});

/** Each users pod's count of GetUser calls handled, read from its own /metrics. */
async function getUserCalls(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const pod of podsOf("users").filter(ready)) {
    const text = await (await fetch(`http://${pod.status.podIP}:${services.users?.opsPort}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const total = text
      .split("\n")
      .filter((line) => line.startsWith("grpc_server_handled_total{") && line.includes("GetUser"))
      .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    counts.set(pod.metadata.name, total);
  }
  return counts;
}

const reads = async (count: number) => {
  const url = `${gatewayUrl()}/v1/users/1`;
  for (let sent = 0; sent < count; sent += 8) {
    await Promise.all(Array.from({ length: 8 }, () => fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.arrayBuffer())));
  }
};

describe.runIf(collector)("the trace collector, the chart's own pod on the real node", () => {
  /** A counter (the OTLP receiver's, the only one) on the collector's own metrics endpoint. */
  const counter = async (pod: any, name: string) =>
    counterTotal(await (await fetch(`http://${pod.status.podIP}:${collector?.metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) })).text(), name);

  it("runs there, Ready through the chart's probes, non-root on a read-only root with no capabilities", () => {
    const pods = collectorPods();
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const state = podState(pod);
      expect(pod.spec.nodeName, pod.metadata.name).toBe(node);
      expect(ready(pod), state).toBe(true);
      expect(pod.status.containerStatuses[0].restartCount, state).toBe(0);
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.spec.containers[0].securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("accepts the spans of requests through the gateway, sent by the services to its Service's name, and refuses none", async () => {
    const pods = collectorPods();
    const before = await Promise.all(pods.map((pod) => counter(pod, "otelcol_receiver_accepted_spans")));
    // Each read makes three spans (the gateway's server and client spans, users' server span),
    // exported in batches a few seconds apart.
    const accepted = await eventually("the collector to accept the new requests' spans", 30, async () => {
      await reads(40);
      const now = await Promise.all(pods.map((pod) => counter(pod, "otelcol_receiver_accepted_spans")));
      const added = now.reduce((sum, n, i) => sum + n - (before[i] ?? 0), 0);
      return added >= 3 * 40 ? added : undefined;
    });
    figure(`trace collector: ${accepted} spans accepted over OTLP from the services' pods`);
    for (const pod of pods) expect(await counter(pod, "otelcol_receiver_refused_spans"), pod.metadata.name).toBe(0);
  });
});

describe("gRPC calls balanced over users' pods (headless Service, round_robin)", () => {
  it("spreads the gateway's calls: each of users' pods serves between a sixth and a half", async () => {
    const pods = podsOf("users");
    expect(pods.length).toBe(services.users?.replicas);
    const before = await getUserCalls();
    await reads(600);
    const after = await getUserCalls();
    const served = [...after].map(([pod, count]) => [pod, count - (before.get(pod) ?? 0)] as const);
    const total = served.reduce((sum, [, n]) => sum + n, 0);
    expect(total).toBeGreaterThanOrEqual(600);
    figure(`balancing over ${served.length} users pods: shares ${served.map(([, n]) => (n / total).toFixed(2)).join(", ")} (target each 0.17-0.50)`);
    for (const [pod, n] of served) {
      expect(n / total, pod).toBeGreaterThanOrEqual(1 / 6);
      expect(n / total, pod).toBeLessThanOrEqual(1 / 2);
    }
  });

  it("sends calls to the pods users scales up to within 30 s", async () => {
    const replicas = services.users?.replicas as number;
    const old = new Set(podsOf("users").map((p) => p.metadata.name));
    kubectl("scale", "-n", namespace, "deployment/users", `--replicas=${replicas + 2}`);
    try {
      kubectl("rollout", "status", "-n", namespace, "deployment/users", "--timeout=90s");
      const readyAt = Date.now();
      const fresh = podsOf("users")
        .map((p) => p.metadata.name)
        .filter((name) => !old.has(name));
      expect(fresh).toHaveLength(2);
      const start = await getUserCalls();
      const seconds = await eventually("every new users pod to serve calls", 30, async () => {
        await reads(80);
        const now = await getUserCalls();
        return fresh.every((pod) => (now.get(pod) ?? 0) > (start.get(pod) ?? 0)) ? (Date.now() - readyAt) / 1000 : undefined;
      });
      figure(`users scaled ${replicas} -> ${replicas + 2}: the new pods took calls ${seconds.toFixed(1)} s after Ready (target <= 30 s)`);
    } finally {
      kubectl("scale", "-n", namespace, "deployment/users", `--replicas=${replicas}`);
      kubectl("rollout", "status", "-n", namespace, "deployment/users", "--timeout=90s");
    }
  });
});

/**
 * How often the kubelet found a gateway pod unready so far (its readiness probe's failures, from
 * the events). users' pods going away must not add to it: the gateway balances over the users
 * pods that are serving, and its readiness asks one of those.
 */
/**
 * Readiness probe failures of the gateway pods serving now (not terminating). A pod that is
 * shutting down fails its readiness on purpose (draining), and a rollout's old pods do so for a
 * while after the rollout is reported done: those are not the failures these tests look for.
 */
function gatewayReadinessFailures(): { count: number; messages: string[] } {
  const serving = new Set(podsOf("gateway").map((p) => p.metadata.name as string));
  const events = items("-n", namespace, "events", "--field-selector", "reason=Unhealthy").filter(
    (e) => serving.has(String(e.involvedObject?.name)) && String(e.message).startsWith("Readiness probe failed"),
  );
  return {
    count: events.reduce((sum, e) => sum + (e.series?.count ?? e.count ?? 1), 0),
    messages: events.map((e) => `${e.involvedObject.name}: ${e.message}`),
  };
}

/** Runs `during`; fails if a serving gateway pod failed its readiness probe meanwhile, with the probes' messages. */
async function gatewayStaysReady(what: string, during: () => Promise<void>): Promise<void> {
  const before = gatewayReadinessFailures().count;
  await during();
  const after = gatewayReadinessFailures();
  expect(after.count - before, `the gateway's readiness failures while ${what}: ${after.messages.join("; ")}`).toBe(0);
}

/**
 * Waits until none of `deployment`'s pods is terminating, then 3 s more to see the callers'
 * reconnects. A rollout is reported done while its last old pods still drain and shut down; their
 * exit belongs to the load of the test that caused it, not to the next test's.
 */
async function oldPodsGone(deployment: string): Promise<void> {
  await eventually(`the old ${deployment} pods to exit`, 120, async () => {
    const pods = JSON.parse(await kubectlAsync("get", "pods", "-n", namespace, "-l", `app.kubernetes.io/name=${deployment}`, "-o", "json")).items as any[];
    return pods.every((p) => !p.metadata.deletionTimestamp) ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 3000));
}

/** The loads run through rollouts and a lost pod, for the durability check after them. */
const loads: LoadResult[] = [];

describe("rollouts and a lost pod under a bounded load", () => {
  // Everything done while the load runs is asynchronous: the load shares this process.
  const rollout = (deployment: string) => async () => {
    await kubectlAsync("rollout", "restart", "-n", namespace, `deployment/${deployment}`);
    await kubectlAsync("rollout", "status", "-n", namespace, `deployment/${deployment}`, "--timeout=120s");
    await oldPodsGone(deployment);
  };

  /** Rolls `deployment` out under the load, with no failed read; the result joins `loads`. */
  const rolledUnderLoad = async (deployment: string) => {
    const result = await underLoad(gatewayUrl(), rollout(deployment));
    loads.push(result);
    figure(
      `rolling update of ${deployment} in ${result.seconds.toFixed(0)} s under load: ${result.failedReads}/${result.reads} reads (${result.resentReads} resent) and ${result.failedCreates}/${result.creates} creates failed (target 0 reads)`,
    );
    expect(result.reads).toBeGreaterThan(100);
    expect(result.failedReads, result.failures.join("; ")).toBe(0);
  };

  it("rolls users out with no failed read, the gateway ready throughout", async () => {
    await gatewayStaysReady("users rolled", () => rolledUnderLoad("users"));
  });

  it("rolls the gateway out with no failed read", () => rolledUnderLoad("gateway"));

  it("loses a users pod with no failed read, and takes it out of the endpoints long before drainSeconds end", async () => {
    const victim = podsOf("users")[0];
    const address = victim.status.podIP;
    const readinessFailuresBefore = gatewayReadinessFailures().count;
    let unready = Number.NaN;
    const result = await underLoad(gatewayUrl(), async () => {
      const deleted = Date.now();
      await kubectlAsync("delete", "pod", "-n", namespace, victim.metadata.name, "--wait=false");
      unready = await eventually("the deleted pod to leave users' ready endpoints", 30, async () => {
        const slices = JSON.parse(await kubectlAsync("get", "-n", namespace, "endpointslices", "-l", "kubernetes.io/service-name=users", "-o", "json"));
        const endpoints = (slices.items as any[]).flatMap((s) => s.endpoints ?? []);
        const mine = endpoints.find((e: any) => e.addresses.includes(address));
        return !mine || mine.conditions.ready === false ? (Date.now() - deleted) / 1000 : undefined;
      });
      await kubectlAsync("rollout", "status", "-n", namespace, "deployment/users", "--timeout=120s");
      await oldPodsGone("users");
    });
    loads.push(result);
    const drain = services.users?.drainSeconds as number;
    figure(`users pod deleted under load: out of the ready endpoints ${unready.toFixed(1)} s after SIGTERM, of a ${drain} s drain`);
    figure(
      `  ${result.failedReads}/${result.reads} reads (${result.resentReads} resent) and ${result.failedCreates}/${result.creates} creates failed (target 0 reads)${result.failures.length > 0 ? `: ${result.failures.join("; ")}` : ""}`,
    );
    expect(unready).toBeLessThan(drain);
    expect(result.failedReads, result.failures.join("; ")).toBe(0);
    const readiness = gatewayReadinessFailures();
    expect(readiness.count - readinessFailuresBefore, `the gateway's readiness failures while a users pod went: ${readiness.messages.join("; ")}`).toBe(0);
  });
});

describe("users' directory in the database the stack declared", () => {
  it("keeps every user whose create was acknowledged through the rollouts and the lost pod, once, read back through any pod", async () => {
    const acknowledged = loads.flatMap((l) => l.created);
    const unanswered = loads.reduce((sum, l) => sum + l.failedCreates, 0);
    expect(acknowledged.length).toBeGreaterThan(100);
    // Through the gateway, balanced over pods that did not exist when most of these were created.
    const started = Date.now();
    const base = gatewayUrl();
    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 16) {
      const batch = acknowledged.slice(i, i + 16);
      const statuses = await Promise.all(
        batch.map((id) => fetch(`${base}/v1/users/${id}`, { signal: AbortSignal.timeout(5000) }).then(async (r) => (await r.arrayBuffer(), r.status))),
      );
      missing.push(...batch.filter((_, k) => statuses[k] !== 200));
    }
    const readSeconds = (Date.now() - started) / 1000;
    expect(missing, "acknowledged users not found").toEqual([]);
    // In the database itself: each once (the unique index), and no more than the creates sent.
    const rows = Number(
      execFileSync("psql", [requiredEnv("FLOTILLA_E2E_USERS_DATABASE"), "-tAc", "SELECT count(*) FROM users WHERE email LIKE 'load-%'"], {
        encoding: "utf8",
      }).trim(),
    );
    expect(rows).toBeGreaterThanOrEqual(acknowledged.length);
    expect(rows).toBeLessThanOrEqual(acknowledged.length + unanswered);
    figure(
      `users in PostgreSQL after the rollouts: ${acknowledged.length} acknowledged, all read back in ${readSeconds.toFixed(1)} s; ${rows} rows (${unanswered} creates unanswered)`,
    );
  }, 300_000);
});

describe("the logs' setup Job on the real node", () => {
  it("fails with the error it is written to give while Elasticsearch runs nowhere (its pods are kwok's)", async () => {
    // The stack's own Job runs on kwok's node (logging.scheduling): here its pod template, as the
    // Job has it, runs on the real node under the same policies, with a short deadline.
    const job = items("-n", "logging", "jobs")[0];
    expect(job, "the setup Job").toBeDefined();
    const template = job.spec.template;
    // Not the Job's controller labels, or the Job would count this pod as its own.
    const labels = Object.fromEntries(
      Object.entries(template.metadata.labels as Record<string, string>).filter(([key]) => key.startsWith("app.kubernetes.io/")),
    );
    const { nodeSelector: _nodeSelector, tolerations: _tolerations, ...spec } = template.spec;
    const container = spec.containers[0];
    const env = [...container.env.filter((e: any) => e.name !== "DEADLINE"), { name: "DEADLINE", value: "8s" }];
    const name = `logsetup-real-${Date.now().toString(36)}`;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "logging", labels },
      spec: { ...spec, restartPolicy: "Never", containers: [{ ...container, env }] },
    };
    await kubectlApply(pod);
    try {
      const finished = await eventually(`pod ${name} to finish`, 90, async () => {
        const status = get("-n", "logging", "pod", name)?.status;
        return status?.phase === "Failed" || status?.phase === "Succeeded" ? status : undefined;
      });
      const logs = kubectl("logs", "-n", "logging", name);
      expect(finished.phase, logs).toBe("Failed");
      expect(get("-n", "logging", "pod", name)?.spec.nodeName).toBe(node);
      expect(finished.containerStatuses[0].state.terminated.exitCode).toBe(1);
      expect(logs).toMatch(/not applied before the deadline/);
      figure(`logsetup on the real node, Elasticsearch absent: exit 1, "${/not applied before the deadline[^"]*/.exec(logs)?.[0].slice(0, 140)}"`);
    } finally {
      kubectl("delete", "pod", "-n", "logging", name, "--wait=false");
    }
  });
});
