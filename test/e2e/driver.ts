/**
 * The render pass of scripts/e2e: an `up` of the dev stack through the Automation API whose
 * provider writes the manifests it would apply (renderYamlToDirectory, set through a transform,
 * which no config key reaches). Every other run of the e2e goes through the `pulumi` command
 * path. The program runs inline in this process, which serves the engine the Node.js language
 * runtime itself.
 *
 * Usage: tsx test/e2e/driver.ts render with, in the environment:
 *   FLOTILLA_E2E_PULUMI   the Pulumi CLI's directory (holding bin/pulumi)
 *   FLOTILLA_E2E_STATE    a directory for the file backend
 *   FLOTILLA_E2E_WORKSPACE  a directory for the workspace's project and stack files
 *   FLOTILLA_E2E_CONFIG   JSON of the flotilla: config to use instead of Pulumi.dev.yaml's
 *   FLOTILLA_E2E_SECRET_KEYS  comma-separated keys of it to set as secrets, as `config set --secret` would
 *   FLOTILLA_E2E_RENDER_DIR  where the provider writes the manifests
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { loadConfig } from "../../config/load";
import { deployStack } from "../../stack";
import { projectDir } from "../harness";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function main(action: string): Promise<void> {
  if (action !== "render") {
    throw new Error(`unknown action ${action}: render`);
  }
  const state = required("FLOTILLA_E2E_STATE");
  const config = JSON.parse(required("FLOTILLA_E2E_CONFIG")) as Record<string, unknown>;
  const renderTo = required("FLOTILLA_E2E_RENDER_DIR");
  const program = async () => {
    pulumi.runtime.registerResourceTransform(({ type, props, opts }) => {
      if (type === "pulumi:providers:kubernetes") {
        // Rendering talks to no cluster, and the provider refuses a kubeconfig beside it.
        const { kubeconfig: _kubeconfig, context: _context, ...rest } = props;
        return { props: { ...rest, renderYamlToDirectory: renderTo }, opts };
      }
      return undefined;
    });
    const outputs = deployStack(loadConfig(), projectDir);
    return { namespace: outputs.namespace, services: outputs.services };
  };
  // The `pulumi` command runs a program, and the provider, in the project's directory; an inline
  // program runs where this process does, and the provider in the workspace. The charts'
  // post-renderer is a path from the program's directory, run by Node with tsx's loader: the
  // program runs from the workspace, which sees the project's packages.
  const workspace = required("FLOTILLA_E2E_WORKSPACE");
  const packages = path.join(workspace, "node_modules");
  if (!fs.existsSync(packages)) fs.symlinkSync(path.join(projectDir, "node_modules"), packages);
  const stack = await LocalWorkspace.createOrSelectStack(
    { projectName: "flotilla", stackName: "render", program },
    {
      // A workspace of its own: the stack's settings file is written there, never over Pulumi.dev.yaml.
      workDir: workspace,
      projectSettings: { name: "flotilla", runtime: "nodejs" },
      pulumiCommand: await PulumiCommand.get({ root: required("FLOTILLA_E2E_PULUMI"), skipVersionCheck: true }),
      envVars: {
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: "flotilla-e2e",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      },
    },
  );
  const secretKeys = new Set((process.env.FLOTILLA_E2E_SECRET_KEYS ?? "").split(",").filter(Boolean));
  await stack.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [key, { value: typeof value === "string" ? value : JSON.stringify(value), secret: secretKeys.has(key) }]),
    ),
  );
  process.chdir(workspace);
  const onOutput = (text: string) => process.stdout.write(text);
  const result = await stack.up({ onOutput });
  console.log(`E2E_CHANGES ${JSON.stringify(result.summary.resourceChanges ?? {})}`);
}

main(process.argv[2] ?? "").catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
