/**
 * How the Pulumi program scales: runs it whole under mocks with 10 and 100 generated services and
 * with the prod stack as configured, and prints the times. Goal: 100 services take at most 12×
 * as long as 10 (linear). Run: `npm run bench:program`.
 */
import { performance } from "node:perf_hooks";
import { runProgram, runStack, stackConfigWithSecrets } from "../test/harness";

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

async function main(): Promise<void> {
  const { values: dev, secretKeys } = stackConfigWithSecrets("dev");
  const withServices = (count: number) => () => runProgram("dev", { ...dev, "flotilla:services": generatedServices(count) }, secretKeys);
  const ten = await timeRun(withServices(10), 5);
  const hundred = await timeRun(withServices(100), 5);
  const prod = await timeRun(() => runStack("prod"), 5);
  const ratio = hundred.ms / ten.ms;
  console.log(`program under mocks (median of 5 runs):`);
  console.log(`  10 services:  ${ten.ms.toFixed(1)} ms, ${ten.resources} resources`);
  console.log(`  100 services: ${hundred.ms.toFixed(1)} ms, ${hundred.resources} resources`);
  console.log(`  ratio 100/10: ${ratio.toFixed(2)} (goal <= 12: ${ratio <= 12 ? "met" : "NOT met"})`);
  console.log(`  prod stack:   ${prod.ms.toFixed(1)} ms, ${prod.resources} resources`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
