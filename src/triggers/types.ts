/**
 * The trigger runner's public shapes: its options, its firing records and the status it serves
 * (GET /triggers, GET /firings). Kept apart so that readers of a status (status-client.ts, the
 * CLI) need none of the runner's parts.
 */

import type { SignatureType } from "../client/send.js";
import type { TriggerConfig } from "../config/schema.js";
import type { ActiveOperatorsSource } from "./leader.js";
import type { Trigger, TriggerType } from "./schedule.js";

export interface TriggerDefinition {
  taskDefinitionId: number;
  /** The task definition's name, shown in the status. */
  name?: string;
  /** As in the config (`taskDefinitions[].triggers`); normalised triggers are accepted too. */
  triggers: ReadonlyArray<TriggerConfig | Trigger>;
}

/** How a performing runner sends the task. */
export type TriggerSend =
  | {
      via: "rpc";
      /** The aggregator's JSON-RPC; the task is signed with the elected operator's key. */
      aggregatorUrl: string;
      sigType?: SignatureType;
      targetChainId?: number;
    }
  | {
      via: "execution";
      /** The execution service (POST /task/execute); it computes, signs and sends by itself. */
      executionUrl: string;
      targetChainId?: number;
      /** The address the execution service signs as, so the recorded task hash matches the chain (default: the elected operator). */
      performer?: string;
      /**
       * The aggregator the service sends to, as this runner reaches it: a task the service hands
       * back (its sendTask got no answer, docs/protocol.md#execution-service) is sent here again.
       */
      aggregatorUrl: string;
    };

export interface TriggerRunnerOptions {
  definitions: ReadonlyArray<TriggerDefinition>;
  /** The chain whose blocks and logs drive the triggers and whose AttestationCenter lists the operators. */
  l2: { rpcUrl: string; attestationCenter: string; chainId: number };
  /** Keys this runner may perform with, by lowercase operator address. */
  operators: ReadonlyMap<string, string>;
  send: TriggerSend;
  /** Blocks per leader epoch (default 1: the performer rotates every block). */
  epochBlocks?: number;
  signal?: AbortSignal;
  /** Serve GET /triggers, GET /firings and GET /health on this port (0: any free port). */
  statusPort?: number;
  /** Host of the status server (default 127.0.0.1). */
  statusHost?: string;
  /** The active operators at a block (default: getActiveOperatorsDetails() of l2.attestationCenter at that block). */
  activeOperators?: ActiveOperatorsSource;
  /** How often block and event triggers poll the chain, in ms (default 500, clamped to 20..10000). */
  pollMs?: number;
  /**
   * How long one firing's task may take to reach the aggregator, retries included, in ms (default
   * 60000). A send that may have reached it unanswered goes again until then; past it, its fate is unknown.
   */
  sendTimeoutMs?: number;
  /** How many firing records are kept (default 1000, oldest dropped first). */
  maxRecords?: number;
  /** Called with every firing record as it is made (errors thrown by it are ignored). */
  onFiring?: (record: FiringRecord) => void;
}

export interface FiringLog {
  txHash: string;
  logIndex: number;
  blockNumber: number;
}

/** One firing of one trigger, whoever performed it. */
export interface FiringRecord {
  /** The trigger's id: `<taskDefinitionId>#<index in its definition's triggers>`. */
  trigger: string;
  taskDefinitionId: number;
  type: TriggerType;
  /** 1-based count of this trigger's firings. */
  n: number;
  firedAt: string;
  /** The slot a time trigger fired for (ISO), null for block and event triggers. */
  scheduledAt: string | null;
  /** The block the performer was elected at (the firing block, the log's block, or the head when a time trigger fired). */
  blockNumber: number | null;
  /** The elected performer's address, whether or not this runner performed. */
  performer: string | null;
  operatorId: number | null;
  /**
   * sent: this runner sent the task (the aggregator took it); skipped: another operator performs;
   * unknown: a send of the task (`taskHash`) may have reached the aggregator but got no answer, and
   * none came when sent again (`error` says so): it may have been taken; failed: see error.
   */
  outcome: "sent" | "skipped" | "unknown" | "failed";
  /** The task sent (sent), or whose fate is unknown (unknown). */
  taskHash?: string;
  /** The task data sent (0x-hex). */
  data?: string;
  error?: { code: string; message: string };
  /** The log that fired an event trigger. */
  log?: FiringLog;
}

/** One trigger in GET /triggers. */
export interface TriggerStatus {
  id: string;
  taskDefinitionId: number;
  taskDefinitionName: string | null;
  type: TriggerType;
  description: string;
  /** Next time-based firing (ISO), null for block and event triggers and when done. */
  nextFiring: string | null;
  /** Next block a block trigger fires on, null otherwise. */
  nextBlock: number | null;
  firings: number;
  sent: number;
  skipped: number;
  /** Firings whose task may or may not have been taken (outcome `unknown`). */
  unknown: number;
  failed: number;
  /** Matching logs an event trigger's cooldown ignored. */
  suppressed: number;
  /** No further firings (maxFirings reached or no time left). */
  done: boolean;
  lastFiring: FiringRecord | null;
}

/** The body of GET /triggers. */
export interface TriggerStatusResponse {
  triggers: TriggerStatus[];
  /** The last block the runner saw (null before its first poll, or without block or event triggers). */
  blockNumber: number | null;
  epochBlocks: number;
  chainId: number;
  startedAt: string;
  /** The last chain polling error, cleared by the next successful poll. */
  pollError: string | null;
}

export interface TriggerRunnerHandle {
  /** `http://host:port` of the status server, when one was asked for. */
  readonly statusUrl: string | undefined;
  status(): TriggerStatus[];
  /** The kept firing records, oldest first. */
  firings(): FiringRecord[];
  /** The last block the poller processed. */
  lastBlock(): number | null;
  /** Resolves once no firing is queued or in flight. */
  idle(): Promise<void>;
  /** Stops timers, polling, the status server; waits (up to 5 s) for sends in flight. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A log as eth_getLogs returns it. */
export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockTimestamp?: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

/** What caused a firing: the firing block, the time slot, or the log. */
export interface FiringContext {
  blockNumber?: number;
  scheduledAt?: number;
  log?: RawLog;
}
