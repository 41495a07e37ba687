/**
 * An HTTP client of the task engine's API (docs/task-engine.md) for `avsctl workflow
 * create|list|...` and `avsctl secret`: signs in with the owner's key once (EIP-191, the token
 * kept in memory only) and returns the engine's JSON. Every failure is an AvsctlError: the
 * engine out of reach ENGINE_UNREACHABLE (4), a refused sign-in or another owner's task
 * ACCESS_DENIED (1), a refused workflow WORKFLOW_INVALID (2) with each problem's path.
 */

import { AvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";
import { readWorkflowFile, type WorkflowProblem } from "../workflow/index.js";
import { type AuthMessageFields, authMessage } from "./auth.js";
import { checkCreate, storedTaskFix } from "./lifecycle.js";

/** What signs the sign-in message: an ethers Wallet does. */
export interface EngineSigner {
  readonly address: string;
  signMessage(message: string): Promise<string>;
}

export interface EngineClientOptions {
  url: string;
  signer: EngineSigner;
  signal?: AbortSignal;
  /** Per request (default 90 s: a blocking trigger waits up to a minute). */
  timeoutMs?: number;
}

export type Json = Record<string, any>;

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

const SIGN_IN_TTL_MS = 10 * 60_000;
const FINAL = ["success", "failed", "error", "canceled"];

function problemsText(errors: WorkflowProblem[]): string {
  return errors.map((e) => `${e.code} at ${e.path || "(root)"}: ${e.message}`).join("; ");
}

/** `file`: the workflow file as the user named it, so the hint's command can be pasted. */
export function workflowInvalid(errors: WorkflowProblem[], file?: string): AvsctlError {
  // `workflow validate` passes what only a stored task needs: pointing there alone would send
  // the user to a command that says the file is valid
  const fixes = errors.flatMap((e) => storedTaskFix(e) ?? []);
  const validate = `\`avsctl workflow validate ${file === undefined ? "<file>" : shellQuote(file)}\``;
  const rest = errors.length > fixes.length ? `; ${validate} checks the rest offline` : "";
  const hint =
    fixes.length > 0
      ? `${fixes.join("; ")}${rest}`
      : file === undefined
        ? undefined
        : `fix each problem at the path named; ${validate} checks the file offline`;
  return new AvsctlError("WORKFLOW_INVALID", `the workflow is refused: ${problemsText(errors)}`, {
    details: { errors },
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * The engine refused a workflow this client had checked as the engine checks every file
 * (createWorkflow): what is left is the engine's own, such as an L2 it does not attest on, and
 * `workflow validate`, which passes the file, is no help there.
 */
function engineRefusal(errors: WorkflowProblem[]): AvsctlError {
  const fixes = errors.map((e) =>
    e.path === "trigger.config.chainId"
      ? "set trigger.config.chainId to one of this engine's L2s (named above), or leave it out for its first"
      : `fix ${e.path || "the workflow"} as the engine says (\`avsctl workflow validate\` does not check it)`,
  );
  return new AvsctlError("WORKFLOW_INVALID", `the workflow is refused: ${problemsText(errors)}`, {
    details: { errors },
    hint: [...new Set(fixes)].join("; "),
  });
}

/** The AvsctlError for an engine's error answer. */
export function engineError(status: number, body: unknown, what: string): AvsctlError {
  const error = (body as { error?: { code?: string; message?: string; details?: Json } })?.error;
  const code = error?.code ?? `HTTP_${status}`;
  const message = `${what}: ${error?.message ?? `the engine answered ${status}`}`;
  const details = { status, engineCode: code, ...(error?.details ?? {}) };
  if (code === "WF_INVALID" && Array.isArray(error?.details?.errors)) {
    return engineRefusal(error.details.errors as WorkflowProblem[]);
  }
  const hint = engineHint(code, status, what);
  const extra = { details, ...(hint ? { hint } : {}) };
  if (status === 401 || status === 403) return new AvsctlError("ACCESS_DENIED", message, extra);
  if (status === 404) return new AvsctlError("NOT_FOUND", message, extra);
  if (status === 400 || status === 413) return new AvsctlError("INVALID_ARGUMENT", message, extra);
  return new AvsctlError("COMMAND_FAILED", message, extra);
}

/** Where to look next, by what the engine refused (`what` names the request: "GET /workflows/.."). */
function engineHint(code: string, status: number, what: string): string | undefined {
  // the ids the request named, so the commands below can be pasted as they are
  const [, id, executionId] = /\/workflows\/([^/:?\s]+)(?:\/executions\/([^/?\s]+))?/.exec(what) ?? [];
  const task = id === undefined ? "<id>" : decodeURIComponent(id);
  if (code === "TASK_NOT_ACTIVE")
    return `a canceled, finished or expired workflow takes no more triggers: \`avsctl workflow get ${task}\` shows its status; \`avsctl workflow create <file>\` stores it anew`;
  if (code === "MAX_EXECUTION_REACHED")
    return `the workflow has had the executions its maxExecution allows: \`avsctl workflow executions ${task}\` lists them; to run it more, raise maxExecution in its file (0: no bound) and store it anew with \`avsctl workflow create <file>\``;
  if (code === "TASK_NOT_STARTED")
    return `the workflow takes triggers from its startAt on (\`avsctl workflow get ${task}\` shows its schedule): trigger it again then, or store it anew with an earlier startAt (\`avsctl workflow create <file>\`)`;
  if (code === "TASK_EXPIRED")
    return `the workflow's expiredAt has passed and it takes no more triggers: store it anew with a later expiredAt (or 0 for no end) with \`avsctl workflow create <file>\``;
  if (status !== 404) return undefined;
  if (/ \/secrets\b/.test(what))
    return "`avsctl secret list` lists the secrets by name (`--workflow <id>` for one workflow's)";
  if (executionId !== undefined)
    return `\`avsctl workflow executions ${task}\` lists the workflow's executions`;
  if (/ \/workflows\b/.test(what)) return "`avsctl workflow list` lists your workflows with their ids";
  return undefined;
}

/**
 * One request to the engine's API: the bearer token once signed in, a JSON body only when there
 * is one. Exported for callers that want the engine's raw answer (status and text) rather than
 * this client's AvsctlErrors, so every caller builds requests the same way.
 */
export function engineFetch(
  url: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${url}${route}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    signal: opts.signal,
  });
}

/**
 * The body of `POST /auth:exchange`: the sign-in message naming `fields`, signed by `signer`.
 * The owner it names is the message's wallet, which the engine checks against the signature.
 */
export async function signInBody(
  signer: EngineSigner,
  fields: AuthMessageFields,
): Promise<{ ownerAddress: string; message: string; signature: string }> {
  const message = authMessage(fields);
  return { ownerAddress: fields.wallet, message, signature: await signer.signMessage(message) };
}

export class EngineClient {
  private token: Promise<string> | undefined;

  constructor(private readonly opts: EngineClientOptions) {}

  get url(): string {
    return this.opts.url.replace(/\/+$/, "");
  }

  private async fetch(method: string, route: string, body: unknown, token?: string): Promise<Response> {
    const signals = [AbortSignal.timeout(this.opts.timeoutMs ?? 90_000)];
    if (this.opts.signal) signals.push(this.opts.signal);
    try {
      return await engineFetch(this.url, method, route, { token, body, signal: AbortSignal.any(signals) });
    } catch (error) {
      if (this.opts.signal?.aborted) throw error;
      throw new AvsctlError("ENGINE_UNREACHABLE", `the task engine at ${this.url} does not answer`, {
        details: { url: this.url },
        cause: error,
      });
    }
  }

  private async json(method: string, route: string, body?: unknown, token?: string): Promise<Json> {
    const res = await this.fetch(method, route, body, token);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      throw new AvsctlError(
        "ENGINE_UNREACHABLE",
        `${this.url} answered something else than the task engine`,
        {
          details: { url: this.url, status: res.status },
        },
      );
    }
    if (!res.ok) throw engineError(res.status, parsed, `${method} ${route}`);
    return parsed as Json;
  }

  /** `GET /health`: whether it is a task engine, and the chain id sign-in messages name. */
  health(): Promise<Json> {
    return this.json("GET", "/health");
  }

  private signIn(): Promise<string> {
    this.token ??= (async () => {
      const health = await this.health();
      const chainId = Number(health.chainId ?? 31337);
      const now = Date.now();
      const body = await signInBody(this.opts.signer, {
        chainId,
        wallet: this.opts.signer.address,
        issuedAt: now - 5_000,
        expiredAt: now + SIGN_IN_TTL_MS,
      });
      const answer = await this.json("POST", "/auth:exchange", body);
      return String(answer.token);
    })();
    this.token.catch(() => {
      this.token = undefined;
    });
    return this.token;
  }

  /** A request with the owner's token. */
  async call(method: string, route: string, body?: unknown): Promise<Json> {
    return this.json(method, route, body, await this.signIn());
  }

  /**
   * Reads a workflow file and creates the task. The file is checked here first, as the engine
   * would: an invalid one throws WORKFLOW_INVALID and nothing is sent.
   */
  async createWorkflow(file: string, cwd: string): Promise<Json> {
    const parsed = await readWorkflowFile(file, cwd);
    if (!parsed.ok) throw workflowInvalid([parsed.problem], file);
    const checked = await checkCreate(parsed.value, Date.now());
    if (!checked.workflow) throw workflowInvalid(checked.errors, file);
    return this.call("POST", "/workflows", parsed.value);
  }

  listWorkflows(q: PageQuery & { status?: string } = {}): Promise<Json> {
    return this.call("GET", `/workflows${query({ status: q.status, limit: q.limit, cursor: q.cursor })}`);
  }

  getWorkflow(id: string): Promise<Json> {
    return this.call("GET", `/workflows/${encodeURIComponent(id)}`);
  }

  triggerWorkflow(id: string, opts: { triggerData?: unknown; wait?: boolean } = {}): Promise<Json> {
    return this.call("POST", `/workflows/${encodeURIComponent(id)}:trigger`, {
      ...(opts.triggerData === undefined ? {} : { triggerData: opts.triggerData }),
      isBlocking: opts.wait === true,
    });
  }

  cancelWorkflow(id: string): Promise<Json> {
    return this.call("POST", `/workflows/${encodeURIComponent(id)}:cancel`);
  }

  deleteWorkflow(id: string): Promise<Json> {
    return this.call("DELETE", `/workflows/${encodeURIComponent(id)}`);
  }

  listExecutions(id: string, q: PageQuery = {}): Promise<Json> {
    return this.call("GET", `/workflows/${encodeURIComponent(id)}/executions${query({ ...q })}`);
  }

  getExecution(id: string, executionId: string): Promise<Json> {
    return this.call(
      "GET",
      `/workflows/${encodeURIComponent(id)}/executions/${encodeURIComponent(executionId)}`,
    );
  }

  /**
   * The execution once it is final, reading it every `pollMs` (each read handed to `onUpdate`
   * when its status changed). Ends early, with the last read, when the signal aborts.
   */
  async watchExecution(
    id: string,
    executionId: string,
    opts: { pollMs?: number; onUpdate?: (e: Json) => void } = {},
  ): Promise<Json> {
    let last: string | undefined;
    for (;;) {
      const execution = await this.getExecution(id, executionId);
      if (execution.status !== last) opts.onUpdate?.(execution);
      last = execution.status;
      if (FINAL.includes(String(execution.status)) || this.opts.signal?.aborted) return execution;
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 500));
    }
  }

  /** Records a run made elsewhere (`workflow run`) as a one-off task with its one execution. */
  recordRun(workflow: unknown, execution: unknown): Promise<Json> {
    return this.call("POST", "/runs", { workflow, execution });
  }

  /** Creates the secret, or replaces its value when the owner has one by that name. */
  async setSecret(name: string, value: string, workflowId?: string): Promise<Json> {
    const scope = workflowId === undefined ? {} : { workflowId };
    try {
      return { ...(await this.call("POST", "/secrets", { name, secret: value, ...scope })), created: true };
    } catch (error) {
      if ((error as AvsctlError).details?.engineCode !== "SECRET_EXISTS") throw error;
      const route = `/secrets/${encodeURIComponent(name)}`;
      return { ...(await this.call("PUT", route, { secret: value, ...scope })), created: false };
    }
  }

  listSecrets(workflowId?: string): Promise<Json> {
    return this.call("GET", `/secrets${query({ workflowId })}`);
  }

  deleteSecret(name: string): Promise<Json> {
    return this.call("DELETE", `/secrets/${encodeURIComponent(name)}`);
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : "";
}
