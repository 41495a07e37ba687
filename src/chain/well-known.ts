/**
 * Ids every AttestationCenter knows from the start (docs/protocol.md#contracts), in one place
 * so that the CLI, the node and the contracts' clients agree on them.
 */

/** The internal task definitions, performed by the aggregator itself. */
export const INTERNAL_TASK_DEFINITIONS = {
  VOTING_POWER_SYNC: 10001,
  VOTING_POWER_PER_TASK_DEFINITION_SYNC: 10002,
} as const;

/** Task definition ids from here on are reserved for internal tasks. */
export const FIRST_INTERNAL_TASK_DEFINITION_ID = 10001;

/** Whether a task definition id lies in the range reserved for internal tasks. */
export function isInternalTaskDefinitionId(id: number): boolean {
  return id >= FIRST_INTERNAL_TASK_DEFINITION_ID;
}
