import { describe, expect, it } from "vitest";
import { devnetSuite } from "./suite.js";
import { tempProject } from "./support.js";

describe("devnet, process runtime (built CLI)", () => {
  devnetSuite("process");
});

describe("devnet runtime selection without a Docker engine", () => {
  it("--runtime docker exits 4 DOCKER_UNAVAILABLE and starts nothing", async () => {
    const p = tempProject("e2e-nodocker");
    try {
      const r = await p.cli(["devnet", "up", "--runtime", "docker", "--json"], {
        DOCKER_HOST: "unix:///nonexistent.sock",
      });
      expect(r.code).toBe(4);
      expect(JSON.parse(r.stdout).error.code).toBe("DOCKER_UNAVAILABLE");
      const status = await p.cli(["devnet", "status", "--json"]);
      expect(JSON.parse(status.stdout).error.code).toBe("NO_DEVNET");
    } finally {
      p.remove();
    }
  });
});
