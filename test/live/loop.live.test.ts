/**
 * The developer's inner loop (scripts/e2e, part "figures"): one line of the gateway changed, then
 * one `up` with the go builder, which builds and pushes what changed and rolls it out. The engine's
 * own events (`up --json`) say which steps ran: the gateway's image alone was rebuilt, and only its
 * Deployment changed.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { requiredEnv } from "./env";
import { get, rolloutShortfall } from "./kube";

interface StepMetadata {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
  readonly new?: { readonly outputs?: Record<string, unknown> };
}

interface EngineEvent {
  readonly resourcePreEvent?: { readonly metadata: StepMetadata };
  readonly resOutputsEvent?: { readonly metadata: StepMetadata };
}

// One JSON event a line; the CLI's own messages on the same stream are not JSON.
const events = fs
  .readFileSync(requiredEnv("FLOTILLA_E2E_LOOP_EVENTS"), "utf8")
  .split("\n")
  .filter((line) => line.startsWith("{"))
  .map((line) => JSON.parse(line) as EngineEvent);
const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const gatewayImage = "pulumi-nodejs:dynamic/image:GoImage";

describe("one line of the gateway changed, then up", () => {
  it("rebuilds the gateway's image alone, and changes only the gateway's Deployment", () => {
    const steps = events.flatMap((e) => (e.resourcePreEvent ? [e.resourcePreEvent.metadata] : []));
    expect(steps.length).toBeGreaterThan(10);
    expect(steps.filter((s) => s.op !== "same").map((s) => [s.op, s.type, nameOf(s.urn)])).toEqual([
      ["update", gatewayImage, "gateway"],
      ["update", "kubernetes:apps/v1:Deployment", "gateway"],
    ]);
  });

  it("runs the image that up pushed, rolled out", () => {
    const pushed = events.find((e) => e.resOutputsEvent?.metadata.type === gatewayImage && nameOf(e.resOutputsEvent.metadata.urn) === "gateway");
    const image = pushed?.resOutputsEvent?.metadata.new?.outputs?.repoDigest;
    expect(image).toMatch(/\/gateway@sha256:[0-9a-f]{64}$/);
    const deployment = get("deployment", "gateway", "-n", "flotilla");
    expect(deployment.spec.template.spec.containers[0].image).toBe(image);
    expect(rolloutShortfall("flotilla", "gateway")).toBeUndefined();
  });
});
