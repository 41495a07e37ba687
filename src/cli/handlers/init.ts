import path from "node:path";
import { invalidArgument } from "../../errors.js";
import { shellCommand } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { table } from "../format.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";

interface InitFlags {
  template?: string;
  language?: string;
  name?: string;
  force?: boolean;
  install?: boolean;
  listTemplates?: boolean;
}

/**
 * `avsctl init [dir]`: asks for what is missing on a terminal, otherwise takes flags and
 * defaults; everything is checked before the first file is written.
 */
export async function initCommand(
  ctx: CommandContext,
  dirArg: string | undefined,
  flags: InitFlags,
): Promise<CommandResult> {
  const init = await import("../../init/scaffold.js");
  const templates = init.listTemplates();
  if (flags.listTemplates) {
    return {
      data: { templates },
      human: () =>
        table(
          ["TEMPLATE", "LANGUAGES", "DESCRIPTION"],
          templates.map((t) => [
            `${t.name}${t.default ? " (default)" : ""}`,
            t.languages.join(", "),
            t.description,
          ]),
        ),
    };
  }

  // Validate what was given before asking for the rest.
  let language = flags.language === undefined ? undefined : init.normalizeLanguage(flags.language);
  let template = flags.template;
  if (template !== undefined && !templates.some((t) => t.name === template)) {
    throw invalidArgument(
      "--template",
      `unknown template "${template}" (${templates.map((t) => t.name).join(", ")})`,
    );
  }
  let name = flags.name === undefined ? undefined : init.validateProjectName(flags.name);

  let dir = dirArg;
  if (ctx.interactive) {
    const prompts = await import("@inquirer/prompts");
    if (!name) {
      const suggested =
        init.suggestProjectName(path.basename(path.resolve(ctx.cwd, dir ?? "my-avs"))) ?? "my-avs";
      name = await prompts.input({
        message: "Project name",
        default: suggested,
        validate: (v) => init.projectNameProblem(v) ?? true,
      });
    }
    template ??= await prompts.select({
      message: "Template",
      choices: templates.map((t) => ({ name: `${t.name}: ${t.description}`, value: t.name })),
      default: init.DEFAULT_TEMPLATE,
    });
    // Only the languages the chosen template offers; no question when it offers one.
    const offered = templates.find((t) => t.name === template)?.languages ?? init.LANGUAGES;
    if (language === undefined && offered.length === 1) language = offered[0];
    language ??= await prompts.select({
      message: "Language",
      choices: offered.map((l) => ({ name: l, value: l })),
      default: offered.includes(init.DEFAULT_LANGUAGE) ? init.DEFAULT_LANGUAGE : offered[0],
    });
  }
  // refused before the first progress line, as nothing will be written
  if (template !== undefined && language !== undefined) init.checkTemplate(templates, template, language);
  dir ??= name ?? "my-avs";
  const target = path.resolve(ctx.cwd, dir);
  const install = flags.install !== false;
  const result = await withProgress(ctx, `init ${path.basename(target)}`, async (step) => {
    step(`writing the ${template ?? init.DEFAULT_TEMPLATE} template (${language ?? init.DEFAULT_LANGUAGE})`);
    return init.scaffoldProject({
      dir: target,
      name,
      template,
      language,
      force: flags.force === true,
      install,
      installOptions: { onStep: (s) => step(s.title) },
    });
  });
  return {
    data: {
      path: result.path,
      name: result.name,
      template: result.template,
      language: result.language,
      files: result.files,
      installed: result.installed,
    },
    human: () =>
      [
        `created ${result.name} (${result.template}, ${result.language}) in ${result.path}: ${result.files.length} files`,
        result.installed ? "dependencies installed" : "dependencies not installed (--no-install)",
        "",
        "next:",
        `  ${shellCommand(["cd", path.relative(ctx.cwd, result.path) || "."])}`,
        "  avsctl devnet up",
        "  avsctl task send --via execution --wait",
      ].join("\n"),
  };
}
