/**
 * What Flotilla changes in a chart's objects before the provider registers them, in one place and
 * in one transform (the engine calls each transform of a chart once per object, sending the whole
 * object each time):
 *
 * - a Service is not awaited (`skipChartServiceAwaits`, ../awaits.ts);
 * - a CustomResourceDefinition loses the `description` of each node of its schemas.
 *
 * Why the descriptions go: the charts' CRDs are large (kube-prometheus-stack's ten: more than 2.2 MB
 * of JSON, three quarters of it descriptions; prometheuses alone 496 KB, 115 KB without), and every step of theirs carries them whole: the engine's
 * check and diff, which it runs one resource at a time, the server-side apply, the await, the
 * state. At 10 services (bench/engine, two runs each) the first `up` fell from 85-89 s to 62 s and
 * `destroy` from 107 s to 73-82 s; a second `up` did not move (17-19 s): its checks and diffs
 * shrank by 2.2 s, and this transform, which now sends each CRD back, costs about as much. The
 * schemas still validate every field as before; `kubectl explain` shows the fields' types without
 * their prose, which the operators' documentation has.
 */
import type * as pulumi from "@pulumi/pulumi";
import { skipChartServiceAwaits } from "../awaits";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Keys of a schema node whose values are schemas, and those whose values are maps or lists of them. */
const schemaKeys = ["items", "additionalProperties", "not"] as const;
const schemaMapKeys = ["properties", "patternProperties", "definitions"] as const;
const schemaListKeys = ["allOf", "anyOf", "oneOf"] as const;

/**
 * A copy of an OpenAPI v3 schema without the `description` keyword of any of its nodes. A property
 * that happens to be named "description" is a key of `properties`, not the keyword: it stays.
 */
export function withoutDescriptions(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const { description: _description, ...rest } = schema;
  for (const key of schemaKeys) {
    if (isObject(rest[key])) rest[key] = withoutDescriptions(rest[key]);
  }
  for (const key of schemaMapKeys) {
    const map = rest[key];
    if (isObject(map)) rest[key] = Object.fromEntries(Object.entries(map).map(([name, node]) => [name, withoutDescriptions(node)]));
  }
  for (const key of schemaListKeys) {
    const list = rest[key];
    if (Array.isArray(list)) rest[key] = list.map(withoutDescriptions);
  }
  return rest;
}

/** The CRD's versions with their schemas stripped of descriptions; undefined when it has none. */
function slimCrd(props: Record<string, unknown>): Record<string, unknown> | undefined {
  const spec = props.spec;
  if (!isObject(spec) || !Array.isArray(spec.versions)) return undefined;
  const versions = spec.versions.map((version: unknown) => {
    if (!isObject(version) || !isObject(version.schema)) return version;
    return { ...version, schema: { ...version.schema, openAPIV3Schema: withoutDescriptions(version.schema.openAPIV3Schema) } };
  });
  return { ...props, spec: { ...spec, versions } };
}

/** The transform every chart of the stack takes (the `transforms` option of a helm.v4.Chart). */
export const chartTransform: pulumi.ResourceTransform = (args) => {
  if (args.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition") {
    const props = slimCrd(args.props);
    return props ? { props, opts: args.opts } : undefined;
  }
  return skipChartServiceAwaits(args);
};
