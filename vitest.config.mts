import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pulumi's mocks keep global state: each file gets its own module graph, tests in a file run in order.
    isolate: true,
    pool: "forks",
    testTimeout: 30_000,
  },
});
