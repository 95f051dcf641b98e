import { defineConfig } from "vitest/config";

/** Suites that need servers a script started (scripts/verify-metrics, scripts/e2e); never part of the mock run. */
export default defineConfig({
  test: {
    include: [`test/live/${process.env.FLOTILLA_LIVE_SUITE ?? "*"}.live.test.ts`],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
