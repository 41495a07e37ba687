/**
 * The data of `avsctl devnet ui` (docs/dashboard.md): the snapshot `GET /api/snapshot` answers
 * and the objects its server-sent events carry. The web app in `ui/` reads exactly these.
 */

export type Health = "up" | "down" | "unknown";

export interface Validation {
  attester: string;
  operatorId: number | null;
  /** The validation service's answer; null until it answers, or when it answered nothing usable. */
  answer: boolean | null;
  reason?: string;
  at: number;
}

export interface Vote {
  attester: string;
  operatorId: number | null;
  verdict: "approve" | "reject" | "abstain";
  reason?: string;
  at: number;
}

export interface Task {
  taskHash: string;
  taskNumber?: number;
  taskDefinitionId: number | null;
  proofOfTask: string | null;
  data: string | null;
  performer: string | null;
  signatureType?: string;
  /** When the aggregator took it (epoch ms). */
  sentAt: number | null;
  validations: Validation[];
  votes: Vote[];
  threshold?: { verdict: string; at: number };
  submission?: { txHash: string; gasUsed: string | null; at: number };
  /**
   * approved | rejected: the chain's verdict. What the aggregator ended it with when no verdict
   * came: failed (its submission failed), timeout (no threshold in time), unreachable (no
   * verdict could be reached). None of these is on-chain; a chain verdict still replaces them.
   */
  verdict?: "approved" | "rejected" | "failed" | "timeout" | "unreachable";
  latencyMs?: number;
  /** Set when the aggregator gave up on it (no threshold in time, or the submission failed). */
  error?: string;
}

export interface InternalTask {
  kind: "voting-power-sync";
  taskHash?: string;
  taskNumber?: number;
  txHash?: string;
  at: number;
  detail: string;
}

export interface MetricsPoint {
  at: number;
  tasksPerSecond: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Mean gas of the submissions decided in the window, decimal; null without any. */
  gasPerTask: string | null;
}

export interface Metrics extends MetricsPoint {
  /** The last 10 minutes, one point per 2 s, oldest first. */
  history: MetricsPoint[];
}

export interface ChainInfo {
  role: "l1" | "l2";
  chainId: number;
  rpcUrl: string;
  blockNumber: number | null;
  contracts: Record<string, string>;
}

export interface OperatorInfo {
  name: string;
  role: "aggregator" | "performer" | "attester";
  operatorId: number | null;
  address: string;
  votingPowerL1: string | null;
  votingPowerL2: string | null;
  health: Health;
}

export interface ComponentInfo {
  name: string;
  healthy: boolean;
  detail: string;
}

export interface TaskDefinitionView {
  taskDefinitionId: number;
  name: string;
  minimumVotingPower: string;
  restrictedOperators: string[];
  maxAttesters: string;
  blockExpiry: string;
  baseRewardFeeForAttesters: string;
  baseRewardFeeForPerformer: string;
  baseRewardFeeForAggregator: string;
  disputePeriodBlocks: string;
}

export interface WorkflowExecution {
  id: string;
  status: string;
  taskNumber: number | null;
  txHash: string | null;
  verdict: string | null;
  steps: Array<{ name: string; success: boolean | null }>;
}

export interface WorkflowView {
  id: string;
  name: string;
  status: string;
  totalExecution: number;
  executions: WorkflowExecution[];
}

export interface Snapshot {
  devnet: { name: string; runtime: "docker" | "process" };
  chains: ChainInfo[];
  operators: OperatorInfo[];
  performer: { operatorId: number; address: string } | null;
  components: ComponentInfo[];
  taskDefinitions: TaskDefinitionView[];
  tasks: Task[];
  internalTasks: InternalTask[];
  metrics: Metrics;
  workflows: WorkflowView[];
}

/** What the feed pushes to `GET /api/events` subscribers. */
export type FeedEvent =
  | { event: "task"; data: Task }
  | { event: "components"; data: ComponentInfo[] }
  | { event: "operators"; data: OperatorInfo[] }
  | { event: "internal-task"; data: InternalTask }
  | { event: "metrics"; data: MetricsPoint }
  | { event: "workflow"; data: { workflowId: string; execution: WorkflowExecution } };
