/**
 * The task engine's workflows and their latest executions, read as the devnet's owner: the
 * engine signs in whoever holds the deployer key (EIP-191), the same owner `avsctl workflow`
 * uses on a devnet.
 */

import type { WorkflowExecution, WorkflowView } from "./types.js";

const WORKFLOWS = 50;
const EXECUTIONS = 20;

type Json = Record<string, any>;

const items = (page: Json): Json[] => (Array.isArray(page.items) ? page.items : []);

function execution(e: Json): WorkflowExecution {
  return {
    id: String(e.id),
    status: String(e.status),
    taskNumber: typeof e.taskNumber === "number" ? e.taskNumber : null,
    txHash: typeof e.txHash === "string" ? e.txHash : null,
    verdict: typeof e.verdict === "string" ? e.verdict : null,
    steps: (Array.isArray(e.steps) ? e.steps : []).map((s: Json) => ({
      name: String(s.name ?? s.id),
      success: typeof s.success === "boolean" ? s.success : null,
    })),
  };
}

/** A reader of the engine's workflows, signed in once (the token kept in memory). */
export function workflowReader(
  url: string,
  ownerKey: string,
  signal: AbortSignal,
): () => Promise<WorkflowView[]> {
  let client: Promise<import("../task-engine/client.js").EngineClient> | undefined;
  return async () => {
    client ??= (async () => {
      const { Wallet } = await import("ethers");
      const { EngineClient } = await import("../task-engine/client.js");
      return new EngineClient({ url, signer: new Wallet(ownerKey), signal, timeoutMs: 5_000 });
    })();
    const c = await client;
    const workflows = items(await c.listWorkflows({ limit: WORKFLOWS }));
    return Promise.all(
      workflows.map(async (w): Promise<WorkflowView> => {
        const executions = items(await c.listExecutions(String(w.id), { limit: EXECUTIONS }));
        return {
          id: String(w.id),
          name: String(w.name ?? ""),
          status: String(w.status),
          totalExecution: Number(w.totalExecution ?? executions.length),
          executions: executions.map(execution),
        };
      }),
    );
  };
}
