/**
 * The project's .env is read as Node's own parser reads it (util.parseEnv, which dotenv
 * matches): a quoted value followed by a comment kept its quotes before, so
 * `L2_RPC="http://127.0.0.1:8888" # local` was no URL; and a quoted value spanning lines (a PEM
 * key, a JSON document) was cut at its first line. Where those parsers would guess (a quote
 * never closed, or closed lines later with text after it), the file is refused, naming the line.
 */
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { parseDotEnv } from "../../../src/config/load.js";
import { AvsctlError } from "../../../src/errors.js";

const LINES = [
  'A="http://127.0.0.1:8888" # c',
  "A='http://127.0.0.1:8888' # c",
  "A=`http://127.0.0.1:8888` # c",
  'A="x" #c',
  'A="x"#c',
  "A='x y' # c",
  'A="it\'s" # c',
  'A="x#c"',
  "A='x # c'",
  "A=x # c",
  "A=x#c",
  "A=#c",
  'A="a\\nb"',
  "A='a\\nb'",
  'A="  p  "',
  "A= spaced ",
  "A=",
  "export A=1",
  '  A = "v" ',
  'A="x"y',
  "A=0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "A=80002@http://a.example,84532@http://b.example",
];

describe("parseDotEnv", () => {
  for (const line of LINES) {
    it(`reads ${JSON.stringify(line)} as util.parseEnv does`, () => {
      expect(parseDotEnv(line)).toEqual({ ...parseEnv(line) });
    });
  }

  it("reads a whole file, comments and blank lines included", () => {
    const text = `# settings\n\nL2_RPC="http://127.0.0.1:8888" # local\r\nexport AVSCTL_KEYSTORE='/k/op.json'\nPRIVATE_KEY=0xab # dev\n`;
    expect(parseDotEnv(text)).toEqual({ ...parseEnv(text) });
    expect(parseDotEnv(text).L2_RPC).toBe("http://127.0.0.1:8888");
  });
});

const PEM =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----";

const MULTILINE = [
  `TLS_KEY="${PEM}"\nL2_RPC=http://127.0.0.1:8545\n`,
  `TLS_KEY="${PEM}" # the performer's\nB=2`,
  `export TLS_KEY="${PEM}"`,
  `A='{\n  "rpc": "http://127.0.0.1:8545",\n  "chainId": 31337\n}'\nB=2`,
  "A=`l1\nl2`\nB=2",
  'A="l1   \n  l2  "  \nB=1',
  'A="l1\r\nl2"\r\nB=2',
  'A="a\\nb\nc"',
  'A="first\nB=not a key"\nC=3',
  'A=""\nB="x\n"\nC=\'\'',
  'A="x" "y\nz"\nB=1',
];

describe("parseDotEnv: a quoted value spanning lines", () => {
  for (const text of MULTILINE) {
    it(`reads ${JSON.stringify(text)} as util.parseEnv does`, () => {
      expect(parseDotEnv(text)).toEqual({ ...parseEnv(text) });
    });
  }

  it("keeps a PEM key whole, and reads the variables after it", () => {
    const env = parseDotEnv(`# keys\nTLS_KEY="${PEM}"\nL2_RPC=http://127.0.0.1:8545\n`);
    expect(env).toEqual({ TLS_KEY: PEM, L2_RPC: "http://127.0.0.1:8545" });
  });
});

/** The AvsctlError parseDotEnv throws for `text`, or undefined. */
function refusal(text: string): AvsctlError | undefined {
  try {
    parseDotEnv(text, "/p/.env");
  } catch (error) {
    if (error instanceof AvsctlError) return error;
    throw error;
  }
  return undefined;
}

describe("parseDotEnv: a malformed quoted value is refused, naming the file and line", () => {
  it("a quote never closed", () => {
    for (const [text, line, quote] of [
      ['A="unterminated', 1, '"'],
      ["X=1\n# c\nPEM='-----BEGIN\nabc\n", 3, "'"],
      ["A=`x", 1, "`"],
    ] as const) {
      const error = refusal(text);
      expect(error?.code, text).toBe("CONFIG_INVALID");
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toMatch(
        new RegExp(`^/p/\\.env:${line}: \\w+: the value opens a \\${quote} quote that is never closed$`),
      );
      expect(error?.details).toMatchObject({ file: "/p/.env", line });
    }
  });

  it("a quote closed lines later with text after it: the next value's opening quote, or a \\\" escape", () => {
    // util.parseEnv would read A as "unterminated\nB=2\nC=" and lose C
    let error = refusal('X=1\nA="unterminated\nB=2\nC="x"\n');
    expect(error?.message).toBe(
      '/p/.env:2: A: the value\'s " quote closes on line 4 with text after it (x"): a closing quote is missing, or the value holds a "',
    );
    expect(error?.details).toMatchObject({ file: "/p/.env", line: 2, key: "A" });
    expect(error?.hint).toContain("'..' quotes");
    // util.parseEnv would read J as `{\n  \\`
    error = refusal('J="{\n  \\"a\\": 1\n}"\n');
    expect(error?.message).toMatch(/^\/p\/\.env:1: J: .* closes on line 2 with text after it/);
  });
});
