/**
 * Secrets: set, update, list (names only), delete; a run sees them as apContext.configVars, and
 * the value appears in no response body and no log line.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { code, flow, type Reply, useSession } from "./helpers.js";

const session = useSession();
const first = `first-${randomBytes(12).toString("hex")}`;
const second = `second-${randomBytes(12).toString("hex")}`;
const replies: Reply[] = [];

const api = async (method: string, route: string, body?: unknown) => {
  const r = await session.call(method, route, body);
  replies.push(r);
  return r;
};

describe("secrets", () => {
  it("are set, listed by name only, updated and deleted", async () => {
    expect((await api("POST", "/secrets", { name: "apiKey", secret: first })).status).toBe(201);
    const again = await api("POST", "/secrets", { name: "apiKey", secret: first });
    expect([again.status, again.body.error.code]).toEqual([409, "SECRET_EXISTS"]);
    expect((await api("POST", "/secrets", { name: "bad-name", secret: first })).status).toBe(400);
    const list = await api("GET", "/secrets");
    expect(list.body.items).toEqual([
      { name: "apiKey", workflowId: null, createdAt: expect.any(Number), updatedAt: expect.any(Number) },
    ]);
    expect((await api("PUT", "/secrets/apiKey", { secret: second })).status).toBe(200);
    expect((await api("PUT", "/secrets/missing", { secret: second })).status).toBe(404);
  });

  it("a run sees the current value as apContext.configVars; outputs, errors and logs mask it", async () => {
    const task = (
      await api(
        "POST",
        "/workflows",
        flow(
          {
            nodes: [
              code("len", `return apContext.configVars.apiKey.startsWith("second-")`),
              code(
                "leak",
                "console.log('key', apContext.configVars.apiKey); return { key: apContext.configVars.apiKey }",
              ),
              code("boom", "throw new Error('bad ' + apContext.configVars.apiKey)"),
            ],
            edges: [
              { id: "e1", source: "trigger", target: "len" },
              { id: "e2", source: "trigger", target: "leak" },
              { id: "e3", source: "trigger", target: "boom" },
            ],
          },
          "",
        ),
      )
    ).body;
    const run = await api("POST", `/workflows/${task.id}:trigger`, { isBlocking: true });
    expect(run.body.status).toBe("failed");
    const steps = Object.fromEntries(run.body.steps.map((s: { name: string }) => [s.name, s]));
    expect(steps.len.output).toBe(true);
    expect(steps.leak.output).toEqual({ key: "***" });
    expect(steps.leak.log).toBe("key ***");
    expect(steps.boom.error).toMatch(/bad \*\*\*/);
    await api("GET", `/workflows/${task.id}/executions/${run.body.id}`);
    await api("GET", `/workflows/${task.id}/executions`);
    await api("GET", `/workflows/${task.id}`);
  });

  it("a secret scoped to a task is seen by that task's runs only, and goes with it", async () => {
    const task = (
      await api("POST", "/workflows", flow({}, "return apContext.configVars.scoped !== undefined"))
    ).body;
    const other = (
      await api("POST", "/workflows", flow({}, "return apContext.configVars.scoped !== undefined"))
    ).body;
    expect(
      (await api("POST", "/secrets", { name: "scoped", secret: first, workflowId: task.id })).status,
    ).toBe(201);
    // an update without workflowId keeps the scope
    expect((await api("PUT", "/secrets/scoped", { secret: first })).body).toEqual({
      name: "scoped",
      workflowId: task.id,
    });
    const scoped = await api("GET", `/secrets?workflowId=${task.id}`);
    expect(scoped.body.items.map((s: { name: string }) => s.name)).toEqual(["scoped"]);
    expect(
      (await api("POST", `/workflows/${task.id}:trigger`, { isBlocking: true })).body.steps[1].output,
    ).toBe(true);
    expect(
      (await api("POST", `/workflows/${other.id}:trigger`, { isBlocking: true })).body.steps[1].output,
    ).toBe(false);
    await api("DELETE", `/workflows/${task.id}`);
    expect((await api("GET", "/secrets")).body.items.map((s: { name: string }) => s.name)).toEqual([
      "apiKey",
    ]);
  });

  it("delete removes a secret", async () => {
    expect((await api("DELETE", "/secrets/apiKey")).body).toEqual({ name: "apiKey", deleted: true });
    expect((await api("DELETE", "/secrets/apiKey")).status).toBe(404);
    expect((await api("GET", "/secrets")).body.items).toEqual([]);
  });

  it("no value ever appeared in a response body or a log line", () => {
    expect(replies.length).toBeGreaterThan(10);
    expect(session.harness.logs.length).toBeGreaterThan(10);
    for (const text of [...replies.map((r) => r.text), ...session.harness.logs]) {
      expect(text).not.toContain(first);
      expect(text).not.toContain(second);
    }
  });
});
