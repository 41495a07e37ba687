/** Configs of the nodes that call HTTP sources: restApi and graphqlQuery. */

import { checkTemplates, type Fields, isObject, join, literal, type Problems } from "./fields.ts";
import { MAX_HTTP_TIMEOUT_MS } from "./limits.ts";

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

function checkUrl(p: Problems, f: Fields, key: string): string | undefined {
  const url = f.string(key, true);
  if (url === undefined) return undefined;
  checkTemplates(p, url, f.at(key));
  if (literal(url)) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(url).protocol);
    } catch {}
    if (!ok) p.add("WF_INVALID_CONFIG", f.at(key), `"${url}" is not an http(s) URL`);
  }
  return url;
}

function headersOf(p: Problems, f: Fields): Record<string, string> {
  const raw = f.raw("headers");
  if (raw === undefined || raw === null) return {};
  const headers: Record<string, string> = {};
  // Ava's clients send a map; some send [[name, value], ...] pairs or [{key, value}]: accept all
  const entries: Array<[unknown, unknown]> = isObject(raw)
    ? Object.entries(raw)
    : Array.isArray(raw)
      ? raw.map((e) =>
          Array.isArray(e) ? [e[0], e[1]] : isObject(e) ? [e.key ?? e.name, e.value] : [undefined, undefined],
        )
      : [];
  if (!isObject(raw) && !Array.isArray(raw)) {
    p.add("WF_INVALID_CONFIG", f.at("headers"), "headers must be an object of name: value");
    return {};
  }
  entries.forEach(([k, v], i) => {
    if (typeof k !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== "string") {
      p.add("WF_INVALID_CONFIG", join(f.at("headers"), isObject(raw) ? String(k) : i), "bad header");
      return;
    }
    headers[k] = v;
  });
  checkTemplates(p, headers, f.at("headers"));
  return headers;
}

export function timeoutOf(f: Fields, max: number): number | undefined {
  return f.int("timeoutMs", 1, max);
}

export function restApiConfig(p: Problems, f: Fields) {
  const url = checkUrl(p, f, "url");
  const methodRaw = f.string("method", false) ?? "GET";
  const method = methodRaw.toUpperCase();
  if (!HTTP_METHODS.includes(method)) {
    p.add("WF_INVALID_CONFIG", f.at("method"), `method must be one of ${HTTP_METHODS.join(", ")}`);
  }
  const headers = headersOf(p, f);
  const body = f.raw("body");
  if (body !== undefined && body !== null && typeof body !== "string" && typeof body !== "object") {
    p.add("WF_INVALID_CONFIG", f.at("body"), "body must be a string or a JSON value");
  }
  checkTemplates(p, body, f.at("body"));
  const timeoutMs = timeoutOf(f, MAX_HTTP_TIMEOUT_MS);
  return {
    url: url ?? "",
    method,
    headers,
    ...(body === undefined || body === null || body === "" ? {} : { body: body as string }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

export function graphqlConfig(p: Problems, f: Fields) {
  const url = checkUrl(p, f, "url");
  const query = f.string("query", true);
  if (query !== undefined) checkTemplates(p, query, f.at("query"));
  const variables = f.object("variables", false) ?? {};
  checkTemplates(p, variables, f.at("variables"));
  const headers = headersOf(p, f);
  const timeoutMs = timeoutOf(f, MAX_HTTP_TIMEOUT_MS);
  return {
    url: url ?? "",
    query: query ?? "",
    variables,
    headers,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}
