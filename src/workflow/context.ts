/**
 * What a node processor gets from the engine: its variables (as a sandbox factory), limits,
 * the chain, the abort signal and a log.
 */

import type { Provider, Signer } from "ethers";
import type { CodePool } from "./code-pool.ts";
import type { InputKind, InputTape } from "./replay.ts";
import { Sandbox } from "./sandbox.ts";

/** Chain access for contractRead/contractWrite/ethTransfer. The caller owns and closes it. */
export interface WorkflowChain {
  provider: Provider;
  /** Signs and sends writes; only used in "run" mode. */
  signer?: Signer;
  /** The sender simulated writes are estimated from (defaults to the signer's address). */
  from?: string;
}

export interface Limits {
  /** customCode and filter predicates: the hard time limit of one node's code. */
  codeTimeoutMs: number;
  /** One template, branch condition or loop input expression. */
  expressionTimeoutMs: number;
  /** One HTTP request (restApi, graphqlQuery), unless the node sets timeoutMs. */
  httpTimeoutMs: number;
  /** Nodes (and parallel loop iterations) in flight at once. */
  concurrency: number;
}

export class NodeContext {
  private readonly lines: string[] = [];

  readonly mode: "simulate" | "run";
  readonly variables: Record<string, unknown>;
  readonly limits: Limits;
  readonly signal: AbortSignal;
  readonly chain: WorkflowChain | undefined;
  /** Records what the network answers, or answers from a record (replay). */
  readonly tape: InputTape | undefined;
  /** Where customCode runs when not on this thread (see code-pool.ts). */
  readonly codePool: CodePool | undefined;

  constructor(
    mode: "simulate" | "run",
    variables: Record<string, unknown>,
    limits: Limits,
    signal: AbortSignal,
    chain: WorkflowChain | undefined,
    tape?: InputTape,
    codePool?: CodePool,
  ) {
    this.mode = mode;
    this.variables = variables;
    this.limits = limits;
    this.signal = signal;
    this.chain = chain;
    this.tape = tape;
    this.codePool = codePool;
  }

  /** Whether requests are answered from recorded inputs instead of the network. */
  get replaying(): boolean {
    return this.tape?.mode === "replay";
  }

  /** The answer to an outside request, through the tape when there is one. */
  answer<T>(kind: InputKind, request: unknown, perform: () => Promise<T>): Promise<T> {
    return this.tape ? this.tape.answer(kind, request, perform) : perform();
  }

  /** Whether a replay holds an answer to `request` (never true outside a replay). */
  holds(kind: InputKind, request: unknown): boolean {
    return this.tape?.holds(kind, request) ?? false;
  }

  /** A fresh realm holding this node's variables (plus `extra`, e.g. the loop variables). */
  sandbox(extra: Record<string, unknown> = {}): Sandbox {
    return Sandbox.create({ ...this.variables, ...extra }, { timeoutMs: this.limits.expressionTimeoutMs });
  }

  /** A context for one loop iteration: same limits and chain, more variables, its own log. */
  child(extra: Record<string, unknown>): NodeContext {
    return new NodeContext(
      this.mode,
      { ...this.variables, ...extra },
      this.limits,
      this.signal,
      this.chain,
      this.tape,
      this.codePool,
    );
  }

  log(line: string): void {
    if (this.lines.length < 500) this.lines.push(line);
  }

  logs(): string[] {
    return [...this.lines];
  }

  requireChain(): WorkflowChain {
    if (!this.chain) {
      throw new Error("no chain to talk to: pass --rpc-url, or start a devnet with `avsctl devnet up`");
    }
    return this.chain;
  }
}
