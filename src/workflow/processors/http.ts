/**
 * restApi and graphqlQuery nodes: one HTTP request each, with a deadline. The output of a
 * restApi node is the response body (parsed when it is JSON); a non-2xx answer fails the
 * node. The output of a graphqlQuery node is the response's `data`; `errors` fail it.
 */

import type { NodeContext } from "../context.ts";
import { renderDeep, renderText } from "../template.ts";
import type { GraphqlQueryConfig, RestApiConfig } from "../types.ts";

/** Response bodies beyond this are refused rather than held in memory and in the record. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

function parsedUrl(text: string): string | undefined {
  try {
    return httpUrl(text);
  } catch {
    return undefined;
  }
}

function httpUrl(value: unknown): string {
  const text = String(value ?? "");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`"${text}" is not an http(s) URL`);
  return url.toString();
}

function renderHeaders(headers: Record<string, string>, ctx: NodeContext, sandbox = ctx.sandbox()) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = String(renderText(v, sandbox, `headers.${k}`) ?? "");
  return out;
}

/**
 * One request, through the tape. Its record names the URL as rendered, which is what a replay
 * renders again: the engine masks each secret as "***" in records, and a replay sees "***" for
 * it. So a replay does not check a URL the recorded run asked (one made of a secret is no URL
 * there); it checks one the run did not ask, which fails as it failed in the run. Records made
 * before named the URL as parsed, tried second.
 */
async function request(
  ctx: NodeContext,
  rendered: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<{ status: number; contentType: string; text: string }> {
  const keyOf = (url: string) => ({
    method: init.method,
    url,
    headers: init.headers,
    body: init.body ?? null,
  });
  if (ctx.replaying) {
    const asked = [rendered, parsedUrl(rendered)].find(
      (url) => url !== undefined && ctx.holds("http", keyOf(url)),
    );
    const url = asked ?? httpUrl(rendered);
    const answer = await ctx.answer("http", keyOf(url), () => perform(ctx, url, init, timeoutMs));
    ctx.log(`${init.method} ${rendered} -> HTTP ${answer.status} (recorded)`);
    return answer;
  }
  const url = httpUrl(rendered);
  return ctx.answer("http", keyOf(rendered), () => perform(ctx, url, init, timeoutMs));
}

async function perform(
  ctx: NodeContext,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<{ status: number; contentType: string; text: string }> {
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: "follow",
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (error) {
    const e = error as Error;
    if (e.name === "TimeoutError") throw new Error(`${init.method} ${url}: no answer within ${timeoutMs} ms`);
    if (e.name === "AbortError") throw new Error(`${init.method} ${url}: aborted`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${init.method} ${url}: ${cause?.code ?? cause?.message ?? e.message}`);
  }
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new Error(`${init.method} ${url}: response larger than ${MAX_BODY_BYTES} bytes`);
  }
  const text = await response.text();
  if (text.length > MAX_BODY_BYTES)
    throw new Error(`${init.method} ${url}: response larger than ${MAX_BODY_BYTES} bytes`);
  ctx.log(
    `${init.method} ${url} -> HTTP ${response.status} (${Date.now() - started} ms, ${text.length} bytes)`,
  );
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text };
}

function parseBody(contentType: string, text: string): unknown {
  if (/json/i.test(contentType) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Runs a restApi node. */
export async function runRestApi(config: RestApiConfig, ctx: NodeContext): Promise<unknown> {
  const sandbox = ctx.sandbox();
  const url = String(renderText(config.url, sandbox, "url") ?? "");
  const headers = renderHeaders(config.headers, ctx, sandbox);
  let body: string | undefined;
  if (config.body !== undefined && config.method !== "GET" && config.method !== "HEAD") {
    const rendered =
      typeof config.body === "string"
        ? renderText(config.body, sandbox, "body")
        : renderDeep(config.body, sandbox, "body");
    if (typeof rendered === "string") body = rendered;
    else {
      body = JSON.stringify(rendered);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
  }
  const timeoutMs = config.timeoutMs ?? ctx.limits.httpTimeoutMs;
  const response = await request(
    ctx,
    url,
    { method: config.method, headers, ...(body === undefined ? {} : { body }) },
    timeoutMs,
  );
  const parsed = parseBody(response.contentType, response.text);
  if (response.status < 200 || response.status > 299) {
    const excerpt = response.text.slice(0, 200).replace(/\s+/g, " ");
    throw new Error(
      `${config.method} ${url} answered HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
    );
  }
  return parsed;
}

/** Runs a graphqlQuery node. */
export async function runGraphqlQuery(config: GraphqlQueryConfig, ctx: NodeContext): Promise<unknown> {
  const sandbox = ctx.sandbox();
  const url = String(renderText(config.url, sandbox, "url") ?? "");
  const query = String(renderText(config.query, sandbox, "query") ?? "");
  const variables = renderDeep(config.variables, sandbox, "variables");
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    ...renderHeaders(config.headers, ctx, sandbox),
  };
  const timeoutMs = config.timeoutMs ?? ctx.limits.httpTimeoutMs;
  const response = await request(
    ctx,
    url,
    { method: "POST", headers, body: JSON.stringify({ query, variables }) },
    timeoutMs,
  );
  const parsed = parseBody("json", response.text) as
    | { data?: unknown; errors?: Array<{ message?: string }> }
    | string;
  if (typeof parsed !== "object" || parsed === null) {
    throw new Error(`POST ${url} answered HTTP ${response.status} without a GraphQL JSON body`);
  }
  if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
    throw new Error(
      `GraphQL errors: ${parsed.errors.map((e) => e?.message ?? JSON.stringify(e)).join("; ")}`,
    );
  }
  if (response.status < 200 || response.status > 299)
    throw new Error(`POST ${url} answered HTTP ${response.status}`);
  return parsed.data ?? null;
}
