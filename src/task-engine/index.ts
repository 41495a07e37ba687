/**
 * The task engine: stored workflows (tasks) with a lifecycle, triggered executions on a durable
 * queue run by the graph engine of src/workflow, owners' secrets, served over HTTP
 * (docs/task-engine.md).
 */

export { AUTH_TITLE, type AuthMessageFields, authMessage } from "./auth.js";
export * from "./lifecycle.js";
export { startTaskEngine, type TaskEngine, type TaskEngineOptions } from "./service.js";
export { TaskStore } from "./store.js";
export * from "./types.js";
export { ulid, ulidFactory, ulidTime } from "./ulid.js";
