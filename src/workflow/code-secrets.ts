/**
 * customCode that reads a secret. The run sees the value; an attester's replay sees "***" for
 * it (the record must not hold it), and the record masks the value only where it appears as
 * is. So what the code derives from a secret (its length, a hash, another case) differs in the
 * replay, whose digest then differs (the attesters reject an honest run), and stays in the
 * record in clear (pinned to IPFS for anyone to read). Said before the workflow is stored.
 */

import type { Workflow } from "./types.ts";

const NAMED =
  /apContext\s*(?:\.\s*configVars|\[\s*["']configVars["']\s*\])\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*["']([^"']+)["']\s*\])/g;
const ANY = /\bapContext\b/;

/** One warning per customCode source (a node's, or a loop's runner's) that reads a secret. */
export function secretsInCode(workflow: Pick<Workflow, "nodes">): string[] {
  const out: string[] = [];
  workflow.nodes.forEach((node, i) => {
    const at =
      node.type === "customCode"
        ? { path: `nodes[${i}].config.source`, source: node.config.source }
        : node.type === "loop" && node.config.runner.type === "customCode"
          ? {
              path: `nodes[${i}].config.runner.config.source`,
              source: (node.config.runner.config as { source: string }).source,
            }
          : undefined;
    if (!at || !ANY.test(at.source)) return;
    const names = [...new Set([...at.source.matchAll(NAMED)].map((m) => (m[1] ?? m[2])!))];
    const what = names.length > 0 ? names.map((n) => `apContext.configVars.${n}`).join(", ") : "apContext";
    out.push(
      `${at.path} (customCode "${node.name}") reads ${what}: attesters replay it with "***" for each secret, so an attested run whose output, log or error depends on a secret's value (its length, a hash, another case: anything but the value as it is) is rejected, and its record, pinned to IPFS, keeps what the code derived in clear; read secrets in a node field instead (a restApi url or header: {{ apContext.configVars.${names[0] ?? "NAME"} }})`,
    );
  });
  return out;
}
