/**
 * The task workflow model of docs/protocol.md#task-workflows (Ava Protocol's shape, camelCase), after
 * validation, and the execution record the engine produces.
 */

import { registerCatalog } from "../errors.ts";

export const TRIGGER_TYPES = ["manual", "fixedTime", "cron", "block", "event"] as const;
export type WorkflowTriggerType = (typeof TRIGGER_TYPES)[number];

/** Node types a loop may run for each item (no control flow inside a loop). */
export const LOOP_RUNNER_TYPES = [
  "restApi",
  "contractRead",
  "contractWrite",
  "ethTransfer",
  "graphqlQuery",
  "customCode",
] as const;
export type LoopRunnerType = (typeof LOOP_RUNNER_TYPES)[number];

export const NODE_TYPES = [...LOOP_RUNNER_TYPES, "branch", "filter", "loop"] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface WorkflowTrigger {
  id: string;
  name: string;
  type: WorkflowTriggerType;
  config: Record<string, unknown>;
}

export interface RestApiConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Record<string, unknown> | unknown[];
  /** Ours: per-request deadline (default from the run options). */
  timeoutMs?: number;
}

export interface GraphqlQueryConfig {
  url: string;
  query: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
  timeoutMs?: number;
}

export interface MethodCall {
  methodName?: string;
  methodParams: unknown[];
  /** Raw calldata instead of methodName + methodParams. */
  callData?: string;
}

export interface ContractReadConfig {
  contractAddress: string;
  contractAbi: unknown[];
  methodCalls: MethodCall[];
}

export interface ContractWriteConfig extends ContractReadConfig {
  /** Wei (or "0.1eth"), sent with each call. */
  value?: string;
  gasLimit?: string;
}

export interface EthTransferConfig {
  destination: string;
  /** Wei (or "0.1eth"). */
  amount: string;
}

export interface CustomCodeConfig {
  lang: "javascript";
  source: string;
  /** Ours: the hard time limit of this node's code (capped by the run options). */
  timeoutMs?: number;
}

export interface BranchCondition {
  id: string;
  type: "if" | "else";
  expression?: string;
}

export interface BranchConfig {
  conditions: BranchCondition[];
}

export interface FilterConfig {
  expression: string;
  inputVariable: string;
}

export interface LoopRunner {
  type: LoopRunnerType;
  config: NodeConfigOf<LoopRunnerType>;
}

export interface LoopConfig {
  inputVariable: string;
  iterVar: string;
  iterKey?: string;
  executionMode: "sequential" | "parallel";
  runner: LoopRunner;
}

export interface NodeConfigs {
  restApi: RestApiConfig;
  graphqlQuery: GraphqlQueryConfig;
  contractRead: ContractReadConfig;
  contractWrite: ContractWriteConfig;
  ethTransfer: EthTransferConfig;
  customCode: CustomCodeConfig;
  branch: BranchConfig;
  filter: FilterConfig;
  loop: LoopConfig;
}
export type NodeConfigOf<T extends NodeType> = NodeConfigs[T];

/** Ours (Ava has none): try a failing node again, waiting backoffMs, then twice that, ... */
export interface RetryPolicy {
  /** Total attempts, the first included (1 = no retry). */
  attempts: number;
  backoffMs: number;
}

export type WorkflowNode = {
  [T in NodeType]: { id: string; name: string; type: T; config: NodeConfigs[T]; retry?: RetryPolicy };
}[NodeType];

export interface WorkflowEdge {
  id: string;
  source: string;
  target: string;
}

/** A workflow after validation: every field typed and normalised (defaults filled in). */
export interface Workflow {
  name: string;
  trigger: WorkflowTrigger;
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
  inputVariables: Record<string, unknown>;
  startAt?: number;
  expiredAt?: number;
  maxExecution?: number;
}

/** One problem found by validation; `code` is stable, `path` points into the document. */
export interface WorkflowProblem {
  code: WorkflowErrorCode;
  message: string;
  path: string;
}

export const WORKFLOW_ERROR_CODES = [
  "WF_PARSE_ERROR",
  "WF_INVALID_SHAPE",
  "WF_UNKNOWN_TRIGGER_TYPE",
  "WF_INVALID_TRIGGER_CONFIG",
  "WF_UNKNOWN_NODE_TYPE",
  "WF_INVALID_CONFIG",
  "WF_INVALID_EXPRESSION",
  "WF_INVALID_NAME",
  "WF_DUPLICATE_NAME",
  "WF_DUPLICATE_ID",
  "WF_VARIABLE_CONFLICT",
  "WF_DANGLING_EDGE",
  "WF_UNKNOWN_CONDITION",
  "WF_INVALID_EDGE",
  "WF_CYCLE",
  "WF_UNREACHABLE",
  "WF_INVALID_SCHEDULE",
  "WF_INVALID_RETRY",
] as const;
export type WorkflowErrorCode = (typeof WORKFLOW_ERROR_CODES)[number];
registerCatalog("workflow", WORKFLOW_ERROR_CODES);

export interface ValidationResult {
  valid: boolean;
  errors: WorkflowProblem[];
  /** The normalised workflow, present only when valid. */
  workflow?: Workflow;
}

export type ExecutionStatus = "success" | "failed" | "error";

/** One executed node (or the trigger, first) of the execution record. */
export interface ExecutionStep {
  id: string;
  name: string;
  type: string;
  success: boolean;
  /** What later nodes read as `<name>.data`. */
  output: unknown;
  error: string | null;
  log: string;
  startAt: number;
  endAt: number;
}

/** The execution record (docs/protocol.md#task-workflows). */
export interface ExecutionRecord {
  id: string;
  startAt: number;
  endAt: number;
  status: ExecutionStatus;
  error: string | null;
  index: number;
  steps: ExecutionStep[];
}
