/**
 * The engine's secret routes (docs/task-engine.md): create, update, list (names and scopes only)
 * and delete. A value goes in and never comes back out of the API.
 */

import { isValidVariableName } from "../workflow/index.js";
import { HttpError, type Reply, type RequestContext, type Route } from "./http.js";
import type { RouteDeps } from "./route-deps.js";
import type { Task } from "./types.js";

const MAX_SECRET_CHARS = 64 * 1024;
const ok = (body: unknown, status = 200): Reply => ({ status, body });

export function secretRoutes(
  d: RouteDeps,
  ownTask: (ctx: RequestContext, id: string | null | undefined) => Task,
): Route[] {
  /** A secret's optional scope: a task of the caller's. */
  const scopeOf = (ctx: RequestContext, raw: unknown): string | null => {
    if (raw === undefined || raw === null || raw === "") return null;
    if (typeof raw !== "string") throw new HttpError(400, "INVALID_REQUEST", "workflowId is a task id");
    return ownTask(ctx, raw).id;
  };
  const secretValue = (raw: unknown): string => {
    if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_SECRET_CHARS) {
      throw new HttpError(
        400,
        "INVALID_REQUEST",
        `secret is a string of 1 to ${MAX_SECRET_CHARS} characters`,
      );
    }
    return raw;
  };
  const secretName = (raw: unknown): string => {
    if (typeof raw !== "string" || !isValidVariableName(raw)) {
      throw new HttpError(
        400,
        "INVALID_REQUEST",
        "name must be a JavaScript identifier (apContext.configVars.<name>)",
      );
    }
    return raw;
  };

  return [
    {
      method: "POST",
      path: "/secrets",
      auth: true,
      handle: async (ctx) => {
        const body = await ctx.body();
        const name = secretName(body.name);
        const workflowId = scopeOf(ctx, body.workflowId);
        const value = secretValue(body.secret);
        if (!d.store.putSecret(ctx.owner, name, value, workflowId, d.now(), "create")) {
          throw new HttpError(
            409,
            "SECRET_EXISTS",
            `a secret "${name}" exists; update it with PUT /secrets/${name}`,
          );
        }
        return ok({ name, workflowId }, 201);
      },
    },
    {
      method: "PUT",
      path: "/secrets/:name",
      auth: true,
      handle: async (ctx) => {
        const body = await ctx.body();
        const name = secretName(ctx.params.name);
        const workflowId = scopeOf(ctx, body.workflowId);
        const value = secretValue(body.secret);
        if (!d.store.putSecret(ctx.owner, name, value, workflowId, d.now(), "update")) {
          throw new HttpError(404, "NOT_FOUND", `no secret "${name}"`);
        }
        const kept = d.store.listSecrets(ctx.owner).find((secret) => secret.name === name);
        return ok({ name, workflowId: kept?.workflowId ?? null });
      },
    },
    {
      method: "GET",
      path: "/secrets",
      auth: true,
      handle: (ctx) => {
        const workflowId = scopeOf(ctx, ctx.query.get("workflowId"));
        return ok({ items: d.store.listSecrets(ctx.owner, workflowId ?? undefined) });
      },
    },
    {
      method: "DELETE",
      path: "/secrets/:name",
      auth: true,
      handle: (ctx) => {
        scopeOf(ctx, ctx.query.get("workflowId"));
        const name = secretName(ctx.params.name);
        if (!d.store.deleteSecret(ctx.owner, name))
          throw new HttpError(404, "NOT_FOUND", `no secret "${name}"`);
        return ok({ name, deleted: true });
      },
    },
  ];
}
