/** The task-definition domain in one import: parameters, the contract client, create, apply plans. */
export { TaskDefClient } from "./client.js";
export { type CreateResult, createTaskDefinition, type DryRunResult } from "./create.js";
export {
  configToInput,
  type ParsedInput,
  paramsJson,
  parseTaskDefinitionInput,
  type TaskDefinitionInfo,
  type TaskDefinitionInput,
  type TaskDefinitionParams,
} from "./params.js";
export { type ApplyStep, executePlan, planApply } from "./plan.js";
