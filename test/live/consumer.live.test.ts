/**
 * examples/consumer, installed from the packed package and deployed through the command path
 * (scripts/e2e, part "consumer"): another team's stack on the same cluster. FLOTILLA_E2E_PHASE
 * says whether it is up or destroyed.
 */
import { describe, expect, it } from "vitest";
import { eventually, requiredEnv } from "./env";
import { get, items, ready } from "./kube";

const phase = requiredEnv("FLOTILLA_E2E_PHASE");

describe.runIf(phase === "deployed")("the consumer's stack, deployed", () => {
  it("created what its preview planned, and a second up changes nothing", () => {
    const up = JSON.parse(requiredEnv("FLOTILLA_E2E_CONSUMER_UP")) as Record<string, number>;
    const second = JSON.parse(requiredEnv("FLOTILLA_E2E_CONSUMER_SECOND_UP")) as Record<string, number>;
    expect(up.create).toBeGreaterThan(10);
    expect(second).toEqual({ same: up.create });
  });

  it("runs its greeter ready, restricted, labelled part of its own application", async () => {
    const pods = await eventually("two ready greeter pods", 60, async () => {
      const found = items("pods", "-n", "greetings", "-l", "app.kubernetes.io/name=greeter").filter(ready);
      return found.length === 2 ? found : undefined;
    });
    expect(pods[0].metadata.labels["app.kubernetes.io/part-of"]).toBe("greetings");
    expect(get("namespace", "greetings").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(pods[0].spec.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it("runs on the real node: each greeter answers on its own address, through the probes' port", async () => {
    const pods = items("pods", "-n", "greetings", "-l", "app.kubernetes.io/name=greeter").filter(ready);
    expect(pods.length).toBe(2);
    for (const pod of pods) {
      expect(pod.spec.nodeName).toBe(requiredEnv("FLOTILLA_E2E_NODE"));
      const readyz = await fetch(`http://${pod.status.podIP}:8081/readyz`, { signal: AbortSignal.timeout(3000) });
      expect(readyz.status, pod.metadata.name).toBe(200);
    }
  });

  it("has a disruption budget, a network policy, and its token only in a Secret", () => {
    expect(get("poddisruptionbudget", "greeter", "-n", "greetings")).toBeDefined();
    expect(get("networkpolicy", "greeter", "-n", "greetings")).toBeDefined();
    const deployment = get("deployment", "greeter", "-n", "greetings");
    const envFrom = deployment.spec.template.spec.containers[0].envFrom;
    const secretName = envFrom.find((e: any) => e.secretRef)?.secretRef.name;
    const secret = get("secret", secretName, "-n", "greetings");
    expect(Buffer.from(secret.data.GREETER_API_TOKEN, "base64").toString()).toBe(requiredEnv("FLOTILLA_E2E_CONSUMER_TOKEN"));
    const configMap = get("configmap", envFrom.find((e: any) => e.configMapRef).configMapRef.name, "-n", "greetings");
    expect(JSON.stringify(configMap.data)).not.toContain(requiredEnv("FLOTILLA_E2E_CONSUMER_TOKEN"));
  });
});

describe.runIf(phase === "deployed")("the consumer's frontend, on the real node", () => {
  it("reaches the greeter through the policies of a non-default part-of, and answers from it", async () => {
    // Its readiness asks the greeter's health: it is Ready only if its egress and the greeter's
    // ingress, selected by app.kubernetes.io/part-of=greetings, let the call through.
    const pods = await eventually("a ready frontend pod", 60, async () => {
      const found = items("pods", "-n", "greetings", "-l", "app.kubernetes.io/name=frontend").filter(ready);
      return found.length === 1 ? found : undefined;
    });
    expect(pods[0].spec.nodeName).toBe(requiredEnv("FLOTILLA_E2E_NODE"));
    expect(pods[0].metadata.labels["app.kubernetes.io/part-of"]).toBe("greetings");
    const response = await fetch(`http://${pods[0].status.podIP}:8080/v1/users/1`, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: "1" });
  });
});

describe.runIf(phase === "destroyed")("the consumer's stack, destroyed", () => {
  it("leaves nothing of it", async () => {
    await eventually("namespace greetings to be deleted", 90, async () => (get("namespace", "greetings") === undefined ? true : undefined));
    expect(items("deployments,services,configmaps,secrets", "-A", "-l", "app.kubernetes.io/part-of=greetings")).toEqual([]);
  });
});
