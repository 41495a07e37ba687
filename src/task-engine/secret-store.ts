/**
 * The owners' secrets, in the task engine's store file: a value goes in through putSecret() and
 * comes out only as a run's apContext.configVars, never in a listing.
 */

import { SqliteFile } from "./sqlite.js";
import type { SecretInfo } from "./types.js";

export class SecretStore extends SqliteFile {
  /**
   * Creates (mode "create") or replaces the value of (mode "update") a secret; an update keeps
   * its scope unless given one. False when there is none to update or one to create.
   */
  putSecret(
    owner: string,
    name: string,
    value: string,
    workflowId: string | null,
    now: number,
    mode: "create" | "update",
  ): boolean {
    const changed =
      mode === "create"
        ? this.run(
            `INSERT INTO secrets (owner, name, workflow_id, value, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
            owner,
            name,
            workflowId,
            value,
            now,
            now,
          )
        : this.run(
            "UPDATE secrets SET value = ?, workflow_id = COALESCE(?, workflow_id), updated_at = ? WHERE owner = ? AND name = ?",
            value,
            workflowId,
            now,
            owner,
            name,
          );
    return changed > 0;
  }

  /** Names and scopes only: a value never leaves the store but through configVars(). */
  listSecrets(owner: string, workflowId?: string): SecretInfo[] {
    return this.all(
      `SELECT name, workflow_id, created_at, updated_at FROM secrets
       WHERE owner = ? AND (? IS NULL OR workflow_id = ?) ORDER BY name`,
      owner,
      workflowId ?? null,
      workflowId ?? null,
    ).map((r) => ({
      name: String(r.name),
      workflowId: r.workflow_id === null ? null : String(r.workflow_id),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  deleteSecret(owner: string, name: string): boolean {
    return this.run("DELETE FROM secrets WHERE owner = ? AND name = ?", owner, name) > 0;
  }

  /** The secrets a run of `taskId` sees as apContext.configVars: the owner's, and the task's own. */
  configVars(owner: string, taskId: string): Record<string, string> {
    const rows = this.all(
      "SELECT name, value FROM secrets WHERE owner = ? AND (workflow_id IS NULL OR workflow_id = ?)",
      owner,
      taskId,
    );
    return Object.fromEntries(rows.map((r) => [String(r.name), String(r.value)]));
  }
}
