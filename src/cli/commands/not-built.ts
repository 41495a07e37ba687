import { AvsctlError } from "../../errors.js";
import type { Handler } from "../runner.js";

/**
 * The handler of a command whose body has not landed yet: it says so and fails (exit 1),
 * never pretending to succeed.
 */
export function notBuilt(command: string, issue?: number): Handler {
  return async () => {
    throw new AvsctlError("NOT_IMPLEMENTED", `\`avsctl ${command}\` is not built yet`, {
      hint: issue ? `follow issue #${issue} for progress` : "it is on the roadmap in the README",
      details: { command, issue },
    });
  };
}
