/**
 * How the Pulumi program scales: runs it whole under mocks with 10 and 100 generated services and
 * with the prod stack as configured, and prints the times. Goal: 100 services take at most 12×
 * as long as 10 (linear). Then the program's start as the language host makes it at every
 * preview and `up`: Node with the project's nodeargs loading the SDK, then the stack's modules.
 * Both as the language host runs the program (test/programNode.ts): this file reruns itself so.
 * Run: `npm run bench:program`.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import type * as Harness from "../test/harness";
import { compilerLoaded, projectDir, projectNodeArgs, runAsProgram, runnerSourceMapSupport } from "../test/programNode";

function generatedServices(count: number): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    // Every service calls the previous one, so network policies and env cross-reference.
    services[`svc-${i}`] = { main: "./cmd/users", protocol: i % 2 ? "grpc" : "http", calls: i > 0 ? [`svc-${i - 1}`] : [], autoscaling: { min: 2, max: 4 } };
  }
  return services;
}

async function timeRun(run: () => Promise<{ resources: unknown[] }>, repeats: number): Promise<{ ms: number; resources: number }> {
  await run(); // warm-up: module loading and JIT
  const times: number[] = [];
  let resources = 0;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    resources = (await run()).resources.length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, resources };
}

/** One start of the program's Node, timed from inside: the SDK, then stack.ts (the config loader and every component). */
const startProbe = `const t0 = performance.now(); require("@pulumi/pulumi"); const t1 = performance.now(); require("./stack.ts");
  console.log(JSON.stringify({ sdk: t1 - t0, total: performance.now() - t0, modules: Object.keys(require.cache).length, compiler: ${compilerLoaded} }));`;

function programStart(runs: number): void {
  const starts = Array.from(
    { length: runs },
    () =>
      JSON.parse(runAsProgram(startProbe)) as {
        sdk: number;
        total: number;
        modules: number;
        compiler: boolean;
      },
  );
  const range = (values: number[]) => `${(Math.min(...values) / 1000).toFixed(2)}-${(Math.max(...values) / 1000).toFixed(2)} s`;
  const last = starts[starts.length - 1] as (typeof starts)[number];
  console.log(`program start, as the language host starts it (${runs} runs):`);
  console.log(`  the SDK's load:        ${range(starts.map((s) => s.sdk))}`);
  console.log(
    `  the SDK and stack.ts:  ${range(starts.map((s) => s.total))}, ${last.modules} modules, TypeScript compiler ${last.compiler ? "loaded" : "not loaded"}`,
  );
}

async function main(): Promise<void> {
  // Loaded here, in the child alone: the harness loads the SDK and the whole stack.
  const { runProgram, runStack, stackConfigWithSecrets } = createRequire(__filename)("../test/harness") as typeof Harness;
  const { values: dev, secretKeys } = stackConfigWithSecrets("dev");
  const withServices = (count: number) => () => runProgram("dev", { ...dev, "flotilla:services": generatedServices(count) }, secretKeys);
  const ten = await timeRun(withServices(10), 5);
  const hundred = await timeRun(withServices(100), 5);
  const prod = await timeRun(() => runStack("prod"), 5);
  const ratio = hundred.ms / ten.ms;
  console.log(`program under mocks, as the language host runs it (median of 5 runs):`);
  console.log(`  10 services:  ${ten.ms.toFixed(1)} ms, ${ten.resources} resources`);
  console.log(`  100 services: ${hundred.ms.toFixed(1)} ms, ${hundred.resources} resources`);
  console.log(`  ratio 100/10: ${ratio.toFixed(2)} (goal <= 12: ${ratio <= 12 ? "met" : "NOT met"})`);
  console.log(`  prod stack:   ${prod.ms.toFixed(1)} ms, ${prod.resources} resources`);
  programStart(5);
}

if (process.env.FLOTILLA_BENCH_AS_PROGRAM === "1") {
  createRequire(__filename)(runnerSourceMapSupport());
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  execFileSync(process.execPath, [...projectNodeArgs(), __filename], {
    cwd: projectDir,
    stdio: "inherit",
    env: { ...process.env, FLOTILLA_BENCH_AS_PROGRAM: "1" },
  });
}
