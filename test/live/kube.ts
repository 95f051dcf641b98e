/** kubectl against the cluster a script started (KUBECONFIG in the environment), parsed as JSON. */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { requiredEnv } from "./env";

requiredEnv("KUBECONFIG");

/** `kubectl get … -o json`; `undefined` when the object does not exist. */
export function get<T = any>(...args: string[]): T | undefined {
  try {
    return JSON.parse(
      execFileSync("kubectl", ["get", ...args, "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 2 ** 20 }),
    ) as T;
  } catch (error) {
    if (String((error as { stderr?: string }).stderr).includes("NotFound")) {
      return undefined;
    }
    throw error;
  }
}

/** The items of a `kubectl get` of a list. */
export const items = (...args: string[]): any[] => get<{ items: any[] }>(...args)?.items ?? [];

/** Whether a pod's Ready condition is True. */
export const ready = (pod: any): boolean => pod.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false;

/** A `kubectl -l` selector of labels that must all match. */
export const labelSelector = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");

/**
 * One line on why a pod is not what a test expected: its phase, readiness, restarts with their
 * last state and the end of the log they left, and the kubelet's latest events on it (a failed
 * probe names its error there). One line, as the e2e's failure record keeps a message's first.
 */
export function podState(pod: any): string {
  const namespace = pod.metadata.namespace;
  const name = pod.metadata.name;
  const status = pod.status?.containerStatuses?.[0];
  const parts = [`${name} ${pod.status?.phase ?? "?"}${ready(pod) ? " ready" : " not ready"}`];
  if (status?.restartCount) {
    let previousLog: string;
    try {
      previousLog = kubectl("logs", "-n", namespace, name, "--previous", "--tail", "5").trim();
    } catch (error) {
      previousLog = `(no previous log: ${String(error).split("\n")[0]})`;
    }
    parts.push(`restarted ${status.restartCount}x, last state ${JSON.stringify(status.lastState)}, its log ended: ${previousLog}`);
  }
  const events = items("-n", namespace, "events", "--field-selector", `involvedObject.name=${name}`)
    .filter((e) => e.type !== "Normal")
    .slice(-3)
    .map((e) => `${e.reason} x${e.count ?? 1}: ${e.message}`);
  if (events.length > 0) parts.push(`events: ${events.join(" / ")}`);
  return parts.join("; ").replaceAll("\n", " | ");
}

/**
 * What a Deployment lacks of a finished rollout, as it stands when read: `undefined` when every
 * replica runs its current template, none of an older one is left, and all are available (the
 * counts `up` awaits, components/awaits.ts); otherwise the counts and each pod's state.
 */
export function rolloutShortfall(namespace: string, name: string): string | undefined {
  const deployment = get("deployment", name, "-n", namespace);
  const { replicas } = deployment.spec;
  const { updatedReplicas = 0, replicas: current = 0, availableReplicas = 0 } = deployment.status;
  if (updatedReplicas === replicas && current === replicas && availableReplicas === replicas) return undefined;
  const pods = items("-n", namespace, "pods", "-l", labelSelector(deployment.spec.selector.matchLabels));
  return `${name}: ${updatedReplicas} updated, ${current} in all and ${availableReplicas} available of ${replicas}; pods: ${pods.map(podState).join("; ")}`;
}

/** `kubectl ARGS`, its output. */
export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const execFileAsync = promisify(execFile);

/**
 * kubectl without blocking the event loop: what a test does while a load runs in the same process
 * must use this, or the load stops for as long as kubectl takes (a `rollout status` of seconds).
 */
export async function kubectlAsync(...args: string[]): Promise<string> {
  return (await execFileAsync("kubectl", args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20 })).stdout;
}

/** `kubectl apply` of one object. */
export async function kubectlApply(object: object): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile("kubectl", ["apply", "-f", "-"], (error) => (error ? reject(error) : resolve()));
    child.stdin?.end(JSON.stringify(object));
  });
}

/** A server-side dry run of creating OBJECT: what admission (the webhooks included) made of it, or its refusal. */
export function dryRun(object: object): { admitted?: any; refused?: string } {
  try {
    const out = execFileSync("kubectl", ["create", "--dry-run=server", "-o", "json", "-f", "-"], {
      input: JSON.stringify(object),
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
    return { admitted: JSON.parse(out) };
  } catch (error) {
    return { refused: String((error as { stderr?: string }).stderr) };
  }
}

/** `http://<ClusterIP>:<port>` of a Service, which the host reaches through kube-proxy on the real node. */
export const serviceUrl = (namespace: string, service: string, port: number | undefined): string =>
  `http://${get("-n", namespace, "service", service)?.spec.clusterIP}:${port}`;
