import { defineConfig } from "vitest/config";

// Integration and e2e tests start real anvil chains, HTTP servers and containers; they need
// generous timeouts and must not all run at once on a 2-core machine.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
  },
});
