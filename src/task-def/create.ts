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

/**
 * Creates a definition, then calls the setters for whatever the contract did not take from
 * the struct (read back from the views), so the chain ends up holding what was asked.
 */
export async function createTaskDefinition(
  client: TaskDefClient,
  signer: Wallet,
  parsed: ParsedInput,
): Promise<CreateResult> {
  const p = parsed.params;
  await client.checkAgainstChain(p);
  const sent = await sendCall(signer, client.prepareCreate(p), client.target.rpcUrl);
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
    const s = await sendCall(signer, call, client.target.rpcUrl);
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
