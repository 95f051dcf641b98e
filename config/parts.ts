/**
 * The contract's building blocks: the value types that the stack's keys and each feature's config
 * slice (features/) are made of, with the messages a refusal gives.
 */
import { z } from "zod";
import type { Resources } from "../components/apps/podSpec";
import { bytesProblem, cpuProblem, quantityValue } from "../components/quantities";

export const dnsLabel = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label: lower-case letters, digits and '-', starting with a letter, at most 63 characters");
export const port = z.number().int().min(1024, "an unprivileged port, 1024 to 65535").max(65535);
/** A string that must pass `problem`, whose answer is the issue's message. */
export const checked = (problem: (text: string) => string | undefined) =>
  z.string().superRefine((text, ctx) => {
    const message = problem(text);
    if (message !== undefined) {
      ctx.addIssue({ code: "custom", input: text, message });
    }
  });
export const cpu = checked(cpuProblem);
export const bytes = checked(bytesProblem);
export const cidr = z
  .string()
  .regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:[0-9]|[12]\d|3[0-2])$/, "an IPv4 CIDR such as 10.0.0.0/16");
export const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in upper case, such as LOG_LEVEL");

const resourceList = (defaults: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage: string }) =>
  z
    .strictObject({
      cpu: cpu.default(defaults.cpu).describe("CPU, in cores or millicores."),
      memory: bytes.default(defaults.memory).describe("Memory, in bytes with a suffix."),
      ephemeralStorage: bytes.default(defaults.ephemeralStorage).describe("Scratch disk (logs, /tmp), in bytes with a suffix."),
    })
    .prefault({});

/** Requests and limits of a container, with the defaults of the component that runs it. */
export const resourcesSchema = (defaults: Resources) =>
  z
    .strictObject({ requests: resourceList(defaults.requests), limits: resourceList(defaults.limits) })
    .prefault({})
    .superRefine((resources, ctx) => {
      for (const key of ["cpu", "memory", "ephemeralStorage"] as const) {
        const problem = key === "cpu" ? cpuProblem : bytesProblem;
        // A malformed quantity has its own issue already; it cannot be compared.
        if (problem(resources.requests[key]) !== undefined || problem(resources.limits[key]) !== undefined) {
          continue;
        }
        if (quantityValue(resources.requests[key]) > quantityValue(resources.limits[key])) {
          ctx.addIssue({
            code: "custom",
            path: ["requests", key],
            input: resources.requests[key],
            message: `must not exceed limits.${key} (${resources.limits[key]})`,
          });
        }
      }
    });

/** A label key as Kubernetes allows it: an optional DNS-subdomain prefix, then a name. */
const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    "a label key such as kubernetes.io/arch or pool",
  );
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "a label value: at most 63 letters, digits, '-', '_' or '.'");

const tolerationSchema = z
  .strictObject({
    key: labelKey.optional().describe("The taint's key; every taint's with `operator: Exists` and no key."),
    operator: z.enum(["Equal", "Exists"]).default("Equal"),
    value: labelValue.optional().describe("The taint's value, with `operator: Equal`."),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional().describe("The taint's effect; every effect when unset."),
    tolerationSeconds: z.number().int().min(0).optional().describe("With `effect: NoExecute`: how long a pod stays once the taint appears."),
  })
  .superRefine((t, ctx) => {
    if (t.operator === "Exists" && t.value !== undefined) {
      ctx.addIssue({ code: "custom", path: ["value"], input: t.value, message: "must be unset with operator Exists, which matches any value" });
    }
    if (t.operator === "Equal" && t.key === undefined) {
      ctx.addIssue({ code: "custom", path: ["key"], input: t.key, message: "is required with operator Equal" });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      ctx.addIssue({ code: "custom", path: ["tolerationSeconds"], input: t.tolerationSeconds, message: "applies only with effect NoExecute" });
    }
  });

const schedulingObject = (what: string) =>
  z.strictObject({
    nodeSelector: z.record(labelKey, labelValue).default({}).describe(`Node labels that ${what} need on their node.`),
    tolerations: z.array(tolerationSchema).default([]).describe(`Taints ${what} tolerate.`),
  });

/** Which nodes a workload's pods may run on (a dedicated node pool, say). */
export const schedulingSchema = (what: string) => schedulingObject(what).prefault({}).describe(`Where ${what} run; any node when unset.`);

/**
 * Where some of a feature's pods run when apart from the rest: `what` runs on these nodes, the
 * feature's `scheduling` when unset. `why` says when one would set it.
 */
export const apartSchedulingSchema = (what: string, why: string) =>
  schedulingObject(what).optional().describe(`Where ${what} runs, when apart from the feature's other pods (${why}); the feature's \`scheduling\` when unset.`);

/** Where a feature's operator runs: operators often go to a system node pool while what they run gets nodes of its own. */
export const operatorSchedulingSchema = (operator: string) => apartSchedulingSchema(operator, "a system node pool");

/** An image reference with an optional tag and an optional `@sha256:` digest. */
export const imageReferencePattern =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Prod deploys prebuilt images by digest only: a tag can move under what was previewed. */
export const digestProblem = (environment: string, image: string | undefined): string | undefined =>
  environment === "prod" && image !== undefined && !image.includes("@sha256:") ? "prod deploys images by digest: add @sha256:<digest>" : undefined;
