/**
 * Checks of what avsctl prints for a user to act on: a quoted command parses with the flags it
 * names, and a message names only flags the command that printed it takes.
 */
import type { Command } from "commander";

/**
 * Whether every `avsctl ...` command quoted in backticks in `text` exists with the flags it
 * names, so pasting it at least parses. Returns the problems found.
 */
export function unpastable(text: string, program: Command): string[] {
  const problems: string[] = [];
  for (const [, line] of text.matchAll(/`avsctl ([^`]*)`/g)) {
    const words = line!.trim().split(/\s+/);
    let command = program;
    const scope: Command[] = [program];
    let i = 0;
    for (; i < words.length && !words[i]!.startsWith("-"); i++) {
      const sub = command.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i]!));
      if (!sub) break;
      command = sub;
      scope.push(sub);
    }
    if (command.commands.length > 0 && i < words.length && !words[i]!.startsWith("-")) {
      problems.push(`\`avsctl ${line}\`: "${words[i]}" is not a subcommand of ${command.name()}`);
    }
    for (const word of words.slice(i)) {
      if (!word.startsWith("-") || word === "--help" || word === "-h") continue;
      const flag = word.split("=")[0]!;
      const known = scope.some((c) => c.options.some((o) => o.long === flag || o.short === flag));
      if (!known) problems.push(`\`avsctl ${line}\`: ${flag} is not a flag of ${command.name()}`);
    }
  }
  return problems;
}

/** The flags `avsctl <args>` takes: its command's own and those of the commands above it. */
function flagsOf(args: string[], program: Command): Set<string> {
  const scope: Command[] = [program];
  let command = program;
  for (const word of args) {
    const sub = command.commands.find((c) => c.name() === word);
    if (!sub) break;
    scope.push(sub);
    command = sub;
  }
  return new Set(
    scope.flatMap((c) => c.options.flatMap((o) => [o.long, o.short])).filter(Boolean) as string[],
  );
}

/** The flags `text` names that `avsctl <args>` does not take: pasting one is UNKNOWN_OPTION. */
export function foreignFlags(text: string, args: string[], program: Command): string[] {
  const flags = flagsOf(args, program);
  const outside = text.replace(/`avsctl [^`]*`/g, ""); // a quoted command is unpastable()'s to check
  return [...outside.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]).filter((f) => !flags.has(f));
}
