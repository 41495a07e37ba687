/**
 * The dashboard's task route over real HTTP on 127.0.0.1, answered from a TaskBook fed one
 * aggregator line: a task seen, a well-formed hash not seen, and ids that are no task hash.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardFeed } from "../../../src/dashboard/feed.js";
import { type DashboardServer, startDashboardServer } from "../../../src/dashboard/server.js";
import { TaskBook } from "../../../src/dashboard/tasks.js";
import { parseLogLine } from "../../../src/devnet/logs.js";

const HASH = `0x${"d4".repeat(32)}`;
const WHAT = "a task is named by its task hash, 0x and 64 hex digits (as `task send` prints it)";

describe("GET /api/tasks/<taskHash>", () => {
  let server: DashboardServer;
  beforeAll(async () => {
    const book = new TaskBook(new Map());
    const accepted = JSON.stringify({
      time: new Date().toISOString(),
      level: "info",
      msg: "task accepted",
      taskHash: HASH,
      taskDefinitionId: 1,
    });
    book.apply(parseLogLine("aggregator", accepted, undefined).entry!);
    const feed: DashboardFeed = {
      snapshot: () => {
        throw new Error("not asked here");
      },
      task: (hash) => book.get(hash),
      subscribe: () => () => undefined,
      close: async () => undefined,
    };
    server = await startDashboardServer({ feed });
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(new URL(path, server.url));
    return { status: res.status, body: (await res.json()) as any };
  };

  it("answers a task it has seen, and NOT_FOUND for a task hash it has not", async () => {
    expect(await get(`api/tasks/${HASH.toUpperCase().replace("0X", "0x")}`)).toMatchObject({
      status: 200,
      body: { taskHash: HASH, taskDefinitionId: 1 },
    });
    const unseen = `0x${"ab".repeat(32)}`;
    expect(await get(`api/tasks/${unseen}`)).toEqual({
      status: 404,
      body: { error: { code: "NOT_FOUND", message: `no task ${unseen} seen on this devnet` } },
    });
  });

  it("answers NOT_FOUND saying what a task hash is for an id that is none", async () => {
    for (const id of ["0xdead", "7", HASH.slice(2), `${HASH}00`]) {
      expect(await get(`api/tasks/${id}`)).toEqual({
        status: 404,
        body: { error: { code: "NOT_FOUND", message: `no task ${id}: ${WHAT}` } },
      });
    }
    expect(await get("api/tasks/")).toEqual({
      status: 404,
      body: { error: { code: "NOT_FOUND", message: `no task (none given): ${WHAT}` } },
    });
    // other API paths still name the route
    expect((await get("api/nope")).body.error.message).toBe("no API route /api/nope");
  });
});
