import { privateKeyFromEnv } from "../../config/load.js";
import { problemText } from "../../config/problem.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";

export interface ConfigShow {
  file: string | null;
  root: string;
  config: unknown;
  sources: Record<string, string>;
  signer: { source: string } | null;
  /** `<key>: <problem>`, as config warnings join any other command's --json `warnings`. */
  warnings: string[];
}

/** `avsctl config show`: the resolved configuration; a signer key is reported by source only. */
export async function configShowCommand(ctx: CommandContext): Promise<CommandResult<ConfigShow>> {
  ctx.reportsConfigWarnings();
  const loaded = await ctx.loadConfig();
  const key = privateKeyFromEnv(loaded.env);
  const data: ConfigShow = {
    file: loaded.filepath ?? null,
    root: loaded.root,
    config: loaded.config,
    sources: loaded.sources,
    signer: key ? { source: loaded.dotEnvNames.has(key.source) ? `.env ${key.source}` : key.source } : null,
    warnings: loaded.warnings.map(problemText),
  };
  return {
    data,
    human: (d) => {
      const lines = [`config file: ${d.file ?? "(none: defaults)"}`, `project root: ${d.root}`];
      for (const [k, v] of Object.entries(d.sources)) if (k !== "file") lines.push(`${k} <- ${v}`);
      if (d.signer) lines.push(`signer key: from ${d.signer.source} (hidden)`);
      for (const w of d.warnings) lines.push(`warning: ${w}`);
      lines.push(JSON.stringify(d.config, null, 2));
      return lines.join("\n");
    },
  };
}
