import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellCommand, shellQuote } from "../../src/shell-quote.js";

describe("shell quoting of printed commands", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote("my-avs")).toBe("my-avs");
    expect(shellQuote("../a/b.json")).toBe("../a/b.json");
    expect(shellQuote("Bad Name")).toBe("'Bad Name'");
    expect(shellQuote("")).toBe("''");
    expect(shellCommand(["cd", "it's here"])).toBe("cd 'it'\\''s here'");
    // `devnet env --format shell` quotes every value, plain or not
    expect(shellQuote("my-avs", { always: true })).toBe("'my-avs'");
    expect(shellQuote("it's", { always: true })).toBe("'it'\\''s'");
  });

  it("gives sh back the very words", () => {
    const words = ["Bad Name", "it's", "$HOME", 'a"b', "semi;colon", "`tick`", "*", "new\nline", "~", ""];
    const printed = execFileSync("sh", ["-c", `printf '%s\\0' ${shellCommand(words)}`], { encoding: "utf8" });
    expect(printed.split("\0").slice(0, -1)).toEqual(words);
  });
});
