// One source of truth for the API's shapes: the server's own declarations (docs/dashboard.md).
export type {
  ComponentInfo as Component,
  InternalTask,
  MetricsPoint as Metrics,
  OperatorInfo as Operator,
  Snapshot,
  Task,
  WorkflowExecution,
  WorkflowView as Workflow,
} from "../../src/dashboard/types.ts";
