/**
 * The task engine over real HTTP on 127.0.0.1, with a real sqlite file and real signatures:
 * sign-in, ownership (401 and 403), create refusals, pagination, the lifecycle through
 * triggers, cancel and delete, and metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, flow, type Harness, signedBody, signIn, startHarness, Wallet } from "./helpers.js";

let h: Harness;
let url: string;
const alice = Wallet.createRandom();
const bob = Wallet.createRandom();
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  h = await startHarness();
  url = h.engine.url;
  aliceToken = await signIn(url, alice);
  bobToken = await signIn(url, bob);
});
afterAll(async () => {
  await h?.close();
});

const create = async (body: unknown, token = aliceToken) => call(url, "POST", "/workflows", token, body);

describe("sign-in", () => {
  it("a good signature gives a token for its owner", async () => {
    const r = await call(url, "POST", "/auth:exchange", undefined, await signedBody(alice));
    expect(r.status).toBe(200);
    expect(r.body.subject).toBe(alice.address);
    expect(r.body.expiresAt).toBeGreaterThan(Date.now());
    expect((await call(url, "GET", "/workflows", r.body.token)).status).toBe(200);
  });

  it("an expired message is refused", async () => {
    const past = Date.now() - 120_000;
    const r = await call(
      url,
      "POST",
      "/auth:exchange",
      undefined,
      await signedBody(alice, { issuedAt: past - 60_000, expiredAt: past }),
    );
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("MESSAGE_EXPIRED");
  });

  it("a message signed by another key is refused", async () => {
    const body = await signedBody(bob, { wallet: alice.address });
    const r = await call(url, "POST", "/auth:exchange", undefined, body);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("SIGNER_MISMATCH");
  });

  it("a message for another chain or with a forged signature is refused", async () => {
    const other = await call(
      url,
      "POST",
      "/auth:exchange",
      undefined,
      await signedBody(alice, { chainId: 1 }),
    );
    expect([other.status, other.body.error.code]).toEqual([401, "WRONG_CHAIN"]);
    const body = await signedBody(alice);
    const forged = await call(url, "POST", "/auth:exchange", undefined, {
      ...body,
      signature: `0x${"11".repeat(65)}`,
    });
    expect(forged.status).toBe(401);
  });
});

describe("ownership", () => {
  let taskId: string;
  let executionId: string;

  beforeAll(async () => {
    taskId = (await create(flow())).body.id;
    executionId = (await call(url, "POST", `/workflows/${taskId}:trigger`, aliceToken, { isBlocking: true }))
      .body.executionId;
  });

  const routes = () =>
    [
      ["GET", `/workflows/${taskId}`, undefined],
      ["DELETE", `/workflows/${taskId}`, undefined],
      ["POST", `/workflows/${taskId}:cancel`, {}],
      ["POST", `/workflows/${taskId}:trigger`, { isBlocking: true }],
      ["GET", `/workflows/${taskId}/executions`, undefined],
      ["GET", `/workflows/${taskId}/executions/${executionId}`, undefined],
      ["GET", `/workflows/${taskId}/executions/${executionId}/status`, undefined],
      ["POST", "/secrets", { name: "k", secret: "v-1234", workflowId: taskId }],
      ["PUT", "/secrets/k", { secret: "v-1234", workflowId: taskId }],
      ["GET", `/secrets?workflowId=${taskId}`, undefined],
      ["DELETE", `/secrets/k?workflowId=${taskId}`, undefined],
    ] as const;

  it("every route but sign-in, health and metrics answers 401 without a valid token", async () => {
    for (const [method, route, body] of [
      ...routes(),
      ["GET", "/workflows", undefined],
      ["POST", "/workflows", flow()],
    ] as const) {
      for (const token of [undefined, "not.a.token", `${aliceToken.slice(0, -4)}AAAA`]) {
        const r = await call(url, method, route, token, body);
        expect([method, route, r.status, r.body.error?.code]).toEqual([
          method,
          route,
          401,
          "UNAUTHENTICATED",
        ]);
      }
    }
    expect((await call(url, "GET", "/health")).status).toBe(200);
  });

  it("another owner's token gets 403 on every task, execution and secret route, and changes nothing", async () => {
    for (const [method, route, body] of routes()) {
      const r = await call(url, method, route, bobToken, body);
      expect([method, route, r.status, r.body.error?.code]).toEqual([method, route, 403, "FORBIDDEN"]);
    }
    const task = await call(url, "GET", `/workflows/${taskId}`, aliceToken);
    expect(task.body.status).toBe("active");
    const runs = await call(url, "GET", `/workflows/${taskId}/executions`, aliceToken);
    expect(runs.body.items.map((e: { id: string }) => e.id)).toEqual([executionId]);
    expect((await call(url, "GET", "/secrets", aliceToken)).body.items).toEqual([]);
    expect((await call(url, "GET", "/workflows", bobToken)).body.items).toEqual([]);
    const theirs = await call(url, "GET", `/workflows?owner=${alice.address}`, bobToken);
    expect([theirs.status, theirs.body.error.code]).toEqual([403, "FORBIDDEN"]);
    const own = await call(url, "GET", `/workflows?owner=${alice.address.toLowerCase()}`, aliceToken);
    expect(own.body.items.map((t: { id: string }) => t.id)).toContain(taskId);
  });
});

describe("create refusals name the field path and store nothing", () => {
  const node = (over: Record<string, unknown>) => ({
    id: "c",
    name: "c",
    type: "customCode",
    config: { lang: "javascript", source: "return 1" },
    ...over,
  });
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    [
      "a cycle",
      flow({
        nodes: [node({ id: "a", name: "a" }), node({ id: "b", name: "b" })],
        edges: [
          { id: "e1", source: "trigger", target: "a" },
          { id: "e2", source: "a", target: "b" },
          { id: "e3", source: "b", target: "a" },
        ],
      }),
      "WF_CYCLE",
      "nodes[0]",
    ],
    [
      "a dangling edge",
      flow({
        edges: [
          { id: "e1", source: "trigger", target: "c" },
          { id: "e2", source: "c", target: "nowhere" },
        ],
      }),
      "WF_DANGLING_EDGE",
      "edges[1].target",
    ],
    ["no trigger", flow({ trigger: undefined }), "WF_INVALID_SHAPE", "trigger"],
    ["a bad node name", flow({ nodes: [node({ name: "fetch-price" })] }), "WF_INVALID_NAME", "nodes[0].name"],
    [
      "an unknown node type",
      flow({ nodes: [node({ type: "teleport" })] }),
      "WF_UNKNOWN_NODE_TYPE",
      "nodes[0].type",
    ],
    [
      "a 1 MB source",
      flow({}, `return ${JSON.stringify("x".repeat(1024 * 1024))}`),
      "WF_INVALID_CONFIG",
      "nodes[0].config.source",
    ],
    ["no edge", flow({ edges: [] }), "WF_INVALID_SHAPE", "edges"],
    ["no node", flow({ nodes: [] }), "WF_INVALID_SHAPE", "nodes"],
  ];

  it.each(cases)("%s", async (_what, body, code, path) => {
    const owner = Wallet.createRandom();
    const token = await signIn(url, owner);
    const r = await create(body, token);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("WF_INVALID");
    expect(r.body.error.details.errors).toContainEqual(expect.objectContaining({ code, path }));
    expect((await call(url, "GET", "/workflows", token)).body.items).toEqual([]);
  });
});

describe("lists page by cursor", () => {
  it("tasks, newest first, by status", async () => {
    const owner = Wallet.createRandom();
    const token = await signIn(url, owner);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(flow({ name: `t${i}` }), token)).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const r = await call(url, "GET", `/workflows?limit=2${cursor ? `&cursor=${cursor}` : ""}`, token);
      expect(r.status).toBe(200);
      sizes.push(r.body.items.length);
      seen.push(...r.body.items.map((t: { id: string }) => t.id));
      cursor = r.body.cursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
    await call(url, "POST", `/workflows/${ids[1]}:cancel`, token);
    const canceled = await call(url, "GET", "/workflows?status=canceled", token);
    expect(canceled.body.items.map((t: { id: string }) => t.id)).toEqual([ids[1]]);
    expect((await call(url, "GET", "/workflows?status=active", token)).body.items).toHaveLength(4);
    expect((await call(url, "GET", "/workflows?status=sleeping", token)).status).toBe(400);
  });

  it("executions, newest first", async () => {
    const id = (await create(flow())).body.id;
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(
        (await call(url, "POST", `/workflows/${id}:trigger`, aliceToken, { isBlocking: true })).body
          .executionId,
      );
    }
    const first = await call(url, "GET", `/workflows/${id}/executions?limit=2`, aliceToken);
    const second = await call(
      url,
      "GET",
      `/workflows/${id}/executions?limit=2&cursor=${first.body.cursor}`,
      aliceToken,
    );
    expect([...first.body.items, ...second.body.items].map((e: { id: string }) => e.id)).toEqual(
      [...runs].reverse(),
    );
    expect(second.body.cursor).toBeNull();
  });
});
