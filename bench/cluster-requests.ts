/**
 * Prints the CPU and memory that every pod of a running cluster requests, by namespace, beside
 * the laptop budget the dev stack must fit (2 CPU, 3 GiB, monitoring and logging included).
 * scripts/e2e runs it once the operators have made their pods: `tsx bench/cluster-requests.ts`
 * with KUBECONFIG set.
 */
import { execFileSync } from "node:child_process";
import { quantityValue } from "../components/quantities";

const budget = { cpu: 2, memory: 3 * 2 ** 30 };

interface Pod {
  metadata: { namespace: string };
  status: { phase: string };
  spec: { containers: { resources?: { requests?: Record<string, string> } }[] };
}

const pods = (JSON.parse(execFileSync("kubectl", ["get", "pods", "-A", "-o", "json"], { encoding: "utf8" })) as { items: Pod[] }).items.filter(
  (p) => p.status.phase !== "Succeeded" && p.status.phase !== "Failed",
);
const byNamespace = new Map<string, { cpu: number; memory: number; pods: number }>();
for (const pod of pods) {
  const total = byNamespace.get(pod.metadata.namespace) ?? { cpu: 0, memory: 0, pods: 0 };
  total.pods++;
  for (const container of pod.spec.containers) {
    total.cpu += quantityValue(container.resources?.requests?.cpu ?? "0");
    total.memory += quantityValue(container.resources?.requests?.memory ?? "0");
  }
  byNamespace.set(pod.metadata.namespace, total);
}
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
console.log("requests of the running pods, by namespace:");
for (const [namespace, t] of [...byNamespace].sort()) {
  console.log(`  ${namespace.padEnd(16)} ${String(t.pods).padStart(2)} pods  ${t.cpu.toFixed(2).padStart(5)} CPU  ${mib(t.memory).padStart(9)}`);
}
const cpu = [...byNamespace.values()].reduce((s, t) => s + t.cpu, 0);
const memory = [...byNamespace.values()].reduce((s, t) => s + t.memory, 0);
const verdict = (value: number, limit: number) => (value <= limit ? "met" : "NOT met");
console.log(`  total            ${String(pods.length).padStart(2)} pods  ${cpu.toFixed(2).padStart(5)} CPU  ${mib(memory).padStart(9)}`);
console.log(
  `  laptop budget: CPU ${cpu.toFixed(2)} of ${budget.cpu} (${verdict(cpu, budget.cpu)}), memory ${mib(memory)} of ${mib(budget.memory)} (${verdict(memory, budget.memory)})`,
);
