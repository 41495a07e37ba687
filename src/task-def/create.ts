import type { Wallet } from "ethers";
import type { Generation } from "../chain/generation.js";
import { type PreparedCall, sendCall } from "../chain/tx.js";
import { AvsctlError } from "../errors.js";
import type { TaskDefClient } from "./client.js";
import { type ParsedInput, paramsJson } from "./params.js";

export interface CreateResult {
  taskDefinitionId: number;
  name: string;
  txHash: string;
  transactions: Array<{ method: string; txHash: string; gasUsed: string }>;
  params: Record<string, unknown>;
  generation: Generation;
  warnings: string[];
}

export interface DryRunResult {
  dryRun: true;
  generation: Generation;
  calls: Array<Omit<PreparedCall, "to"> & { to: string }>;
  warnings: string[];
}

/** The setter command of each follow-up call, for hints. */
const SETTER_COMMANDS: Record<string, string> = {
  setTaskDefinitionMinVotingPower: "set-min-voting-power",
  setTaskDefinitionRestrictedOperators: "set-restricted-operators",
  setTaskDefinitionRestrictedAttesters: "set-restricted-operators",
  setTaskDefinitionMaximumNumberOfAttesters: "set-max-attesters",
};

/**
 * What to do about a create whose transaction's fate avsctl could not learn (src/chain/tx.ts):
 * see whether the definition exists before running the command again, which would sign a new
 * transaction and could make a second definition of the name.
 */
export function unsettledCreateHint(
  client: TaskDefClient,
  name: string,
  command: "create" | "apply",
): string {
  return `once the chain answers, \`avsctl task-def list${client.targetFlags()}\` shows whether "${name}" was created (once that transaction is mined); running \`task-def ${command}\` again before then may create a second definition`;
}

/** What to do about a setter whose transaction's fate avsctl could not learn. */
export function unsettledSetterHint(client: TaskDefClient, id: number): string {
  return `once the chain answers, \`avsctl task-def show ${id}${client.targetFlags()}\` shows whether the change took effect (once that transaction is mined)`;
}

/**
 * Creates a definition, then calls the setters for whatever the contract did not take from
 * the struct (read back from the views), so the chain ends up holding what was asked.
 * `command` is the task-def command the user runs, whose hints for a transaction left unsettled
 * say how to find out what it did and what running it again does; devnet up and quickstart pass
 * none (their definitions are made once by name, and their chain is not reached by flags a hint
 * could name).
 */
export async function createTaskDefinition(
  client: TaskDefClient,
  signer: Wallet,
  parsed: ParsedInput,
  command?: "create" | "apply",
): Promise<CreateResult> {
  const p = parsed.params;
  await client.checkAgainstChain(p);
  const rpcUrl = client.target.rpcUrl;
  const sent = await sendCall(signer, client.prepareCreate(p), {
    rpcUrl,
    unsettledHint: command && unsettledCreateHint(client, p.name, command),
  });
  const now = await client.created(sent.receipt.logs);
  if (now === undefined) {
    throw new AvsctlError(
      "TX_FAILED",
      `createNewTaskDefinition (tx ${sent.txHash}) emitted no TaskDefinitionCreated event`,
      {
        hint: "is --attestation-center really an AttestationCenter?",
      },
    );
  }
  const id = now.taskDefinitionId;
  const transactions = [{ method: sent.method, txHash: sent.txHash, gasUsed: sent.gasUsed }];
  const followUps: PreparedCall[] = [];
  if (now.minimumVotingPower !== p.minimumVotingPower.toString()) {
    followUps.push(client.prepareSetMinVotingPower(id, p.minimumVotingPower));
  }
  if (now.restrictedOperatorIndexes.join(",") !== p.restrictedOperatorIndexes.join(",")) {
    followUps.push(client.prepareSetRestricted(id, p.restrictedOperatorIndexes));
  }
  if (client.gen === "gen2" && now.maximumNumberOfAttesters !== p.maximumNumberOfAttesters.toString()) {
    followUps.push(client.prepareSetMaxAttesters(id, p.maximumNumberOfAttesters));
  }
  for (const call of followUps) {
    const setter = SETTER_COMMANDS[call.method.split("(")[0]!];
    const s = await sendCall(signer, call, {
      rpcUrl,
      // the definition exists: running create again would make a second one
      unsettledHint:
        command &&
        `definition ${id} was created (transaction ${sent.txHash}); once the chain answers, \`avsctl task-def show ${id}${client.targetFlags()}\` shows whether this change took effect (once that transaction is mined); ${command === "apply" ? "running `task-def apply` again sets what it lacks" : `if it did not, \`task-def ${setter}\` sets it (running \`task-def create\` again would create a second definition)`}`,
      unsettledDetails: { taskDefinitionId: id, createTxHash: sent.txHash },
    });
    transactions.push({ method: s.method, txHash: s.txHash, gasUsed: s.gasUsed });
  }
  return {
    taskDefinitionId: id,
    name: p.name,
    txHash: sent.txHash,
    transactions,
    params: paramsJson(p),
    generation: client.gen,
    warnings: parsed.warnings,
  };
}
