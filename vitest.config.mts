import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Live suites need servers that scripts start; they run from those scripts (test/live/vitest.config.mts).
    exclude: ["test/live/**", "**/node_modules/**"],
    // Pulumi's mocks keep global state: each file gets its own module graph, tests in a file run in order.
    isolate: true,
    pool: "forks",
    testTimeout: 30_000,
  },
});
