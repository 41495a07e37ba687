/**
 * The secrets a workflow reads (`apContext.configVars.<name>`), so that a run or a stored
 * workflow without one says which is missing and how to give it, instead of failing later on a
 * field that rendered empty (a URL that is not one).
 */

const CONFIG_VAR = /apContext\s*\.\s*configVars\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*["']([^"']+)["']\s*\])/g;

/** Every configVars name a workflow's text mentions, once each, in order of appearance. */
export function configVarNames(workflow: unknown): string[] {
  const named = new Set<string>();
  for (const m of JSON.stringify(workflow).matchAll(CONFIG_VAR)) named.add((m[1] ?? m[2])!);
  return [...named];
}
