/**
 * What Flotilla changes in a chart's objects, in one place: the Helm post-renderer every chart of
 * the stack takes. The Kubernetes provider pipes the chart's rendered manifests through it before
 * it registers a single object:
 *
 * - a Service is not awaited (`serviceAwaitSkipped`, ../awaits.ts), and a Deployment is awaited
 *   by the conditions Flotilla's own take (`rolloutAwait`, the same file), keeping its annotations;
 * - a CustomResourceDefinition loses the `description` of each node of its schemas;
 * - an object the chart's caller names in `drop` is left out: every object of a kind
 *   (`<group>/<Kind>`), one that needs a controller the stack replaces (the Barman Cloud plugin's
 *   cert-manager Issuer), or one object by name (`<group>/<Kind>/<name>`), such as a CRD of a kind
 *   the stack does not install (monitoring's optional kinds).
 *
 * Why the descriptions go: the charts' CRDs are large (kube-prometheus-stack's ten: more than 2.2 MB
 * of JSON, three quarters of it descriptions; prometheuses alone 496 KB, 115 KB without), and every
 * step of theirs carries them whole: the engine's check and diff, which it runs one resource at a
 * time, the server-side apply, the await, the state. At 10 services (bench/engine) the first `up`
 * fell from 85-89 s to 62 s. The schemas still validate every field as before; `kubectl explain`
 * shows the fields' types without their prose, which the operators' documentation has.
 *
 * Why a post-renderer and not a resource transform, which did the same until 2026-12: the engine
 * calls a transform once per object of the chart, sending it to the program and back over gRPC,
 * and the program's one thread decodes each (kube-prometheus-stack: 107 calls, 3.2 s of the
 * program's CPU in a second `up`). The post-renderer reads the manifests once, in the provider's
 * own time, and rewrites only the documents it changes.
 */
import { loadAll, Schema, timestampTag, YAML11_SCHEMA } from "js-yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { rolloutAwait, serviceAwaitSkipped } from "../awaits";

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

/** The object as Flotilla installs it; undefined when it is left exactly as the chart rendered it. */
function rewrite(object: Record<string, unknown>): Record<string, unknown> | undefined {
  const { apiVersion, kind, metadata, spec } = object;
  if (apiVersion === "apiextensions.k8s.io/v1" && kind === "CustomResourceDefinition" && isObject(spec) && Array.isArray(spec.versions)) {
    const versions = spec.versions.map((version: unknown) => {
      if (!isObject(version) || !isObject(version.schema)) return version;
      return { ...version, schema: { ...version.schema, openAPIV3Schema: withoutDescriptions(version.schema.openAPIV3Schema) } };
    });
    return { ...object, spec: { ...spec, versions } };
  }
  const annotated = (added: Record<string, string>) => {
    const meta = isObject(metadata) ? metadata : {};
    const annotations = isObject(meta.annotations) ? meta.annotations : {};
    return { ...object, metadata: { ...meta, annotations: { ...annotations, ...added } } };
  };
  if (apiVersion === "v1" && kind === "Service") {
    return annotated(serviceAwaitSkipped);
  }
  if (apiVersion === "apps/v1" && kind === "Deployment") {
    return annotated(rolloutAwait(isObject(spec) && typeof spec.replicas === "number" ? spec.replicas : undefined));
  }
  return undefined;
}

/**
 * YAML as Helm and the provider read a chart (Go's YAML 1.1 rules: `yes` is true, `0755` octal),
 * but with timestamps left as strings, as Go leaves them in an untyped value.
 */
const chartYaml = new Schema(YAML11_SCHEMA.tags.filter((tag) => tag !== timestampTag));

/** The kind a document names on a line of its own; a document that names none is passed on unparsed. */
const kindLine = /^kind:[ \t]*["']?([A-Za-z0-9]+)["']?[ \t]*$/m;
const rewrittenKinds = new Set(["CustomResourceDefinition", "Service", "Deployment"]);

/** `<group>/<Kind>` of an object, the group empty for the core API. */
const groupKind = (object: Record<string, unknown>) => `${String(object.apiVersion).split("/").slice(0, -1).join("/")}/${String(object.kind)}`;

export interface PostRenderOptions {
  /**
   * Objects left out: every object of a kind, as `<group>/<Kind>` (`cert-manager.io/Issuer`), or
   * one by name, as `<group>/<Kind>/<name>`
   * (`apiextensions.k8s.io/CustomResourceDefinition/thanosrulers.monitoring.coreos.com`).
   * @default none
   */
  readonly drop?: readonly string[];
}

/**
 * The chart's manifests (Helm's stream of YAML documents) with the objects above rewritten, each
 * as one line of JSON, which is YAML too; every other document, and every separator, as it came.
 */
export function postRender(manifests: string, options: PostRenderOptions = {}): string {
  const dropped = new Set(options.drop ?? []);
  // A group has no slash, nor has a name: the Kind is the second segment of either form.
  const droppedKinds = new Set([...dropped].map((entry) => entry.split("/")[1]));
  // Split on the separator lines, keeping them (odd indices), so that joining restores the stream.
  const parts = manifests.split(/^(---[ \t]*)$/m);
  return parts
    .map((part, index) => {
      const kind = index % 2 === 0 ? kindLine.exec(part)?.[1] : undefined;
      if (kind === undefined || !(rewrittenKinds.has(kind) || droppedKinds.has(kind))) return part;
      const [object, ...more] = loadAll(part, { schema: chartYaml });
      if (more.length > 0 || !isObject(object)) return part;
      const kindOf = groupKind(object);
      const name = isObject(object.metadata) ? String(object.metadata.name) : "";
      if (dropped.has(kindOf) || dropped.has(`${kindOf}/${name}`)) return "\n";
      const rewritten = rewrite(object);
      return rewritten === undefined ? part : `\n${JSON.stringify(rewritten)}\n`;
    })
    .join("");
}

/**
 * The `postRenderer` argument of every `helm.v4.Chart` of the stack: this file, run by Node.
 *
 * The `pulumi` command runs the program and the provider in the project's directory (where
 * Pulumi.yaml is), so the path is relative to it there: the Chart's inputs are then the same on
 * every machine, and a preview in CI shows no change that a laptop's `up` made. A program the
 * Automation API runs inline, from a directory that is not its project's, gets the absolute path,
 * right wherever the provider runs. From the TypeScript source (this repository's own stacks),
 * Node takes tsx's loader, as the program does.
 */
export function chartPostRenderer(options: PostRenderOptions = {}): { command: string; args: string[] } {
  const loader = path.extname(__filename) === ".ts" ? ["--import", "tsx"] : [];
  const inProject = ["Pulumi.yaml", "Pulumi.yml"].some((file) => fs.existsSync(path.join(process.cwd(), file)));
  const drop = (options.drop ?? []).flatMap((groupKindName) => ["--drop", groupKindName]);
  return { command: "node", args: [...loader, inProject ? path.relative(process.cwd(), __filename) : __filename, ...drop] };
}

// Run as a post-renderer: the manifests on standard input, the result on standard output. Both
// are pipes that the provider may hand over non-blocking, which a synchronous read or write of a
// chart's megabytes meets with EAGAIN: the streams wait for them instead.
if (require.main === module) {
  const chunks: Buffer[] = [];
  process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
  const drop = process.argv.slice(2).flatMap((arg, i, args) => (args[i - 1] === "--drop" ? [arg] : []));
  process.stdin.on("end", () => process.stdout.write(postRender(Buffer.concat(chunks).toString("utf8"), { drop })));
}
