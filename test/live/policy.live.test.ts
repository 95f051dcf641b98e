/**
 * The policy pack on the real engine (scripts/e2e, part "policy"): `pulumi preview` with the pack
 * passes on the dev stack and on the consumer's stack by digest, and refuses the consumer's stack
 * with an image by tag, naming the rule.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { requiredEnv } from "./env";

const output = (name: string) => fs.readFileSync(requiredEnv(name), "utf8");

describe("pulumi preview --policy-pack", () => {
  it("passes on the dev stack", () => {
    expect(requiredEnv("FLOTILLA_E2E_POLICY_DEV_STATUS")).toBe("0");
  });

  it("passes on a stack that deploys by digest, and says the pack ran", () => {
    expect(requiredEnv("FLOTILLA_E2E_POLICY_DIGEST_STATUS")).toBe("0");
    expect(output("FLOTILLA_E2E_POLICY_DIGEST_OUT")).toMatch(/Policies:\s*\n\s*✅ flotilla@v0\.1\.0/);
  });

  it("fails on a stack that deploys an image by tag, with the rule's message", () => {
    expect(requiredEnv("FLOTILLA_E2E_POLICY_TAG_STATUS")).not.toBe("0");
    const text = output("FLOTILLA_E2E_POLICY_TAG_OUT");
    expect(text).toMatch(/❌ flotilla@v0\.1\.0/);
    expect(text).toMatch(/\[mandatory\]\s+images-by-digest\s+\(kubernetes:apps\/v1:Deployment: greeter\)/);
    expect(text).toContain("container greeter runs registry.example/greeter:v1, a tag that can move: deploy by digest");
  });
});
