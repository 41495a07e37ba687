/**
 * The project's .env is read as Node's own parser reads it (util.parseEnv, which dotenv
 * matches): a quoted value followed by a comment kept its quotes before, so
 * `L2_RPC="http://127.0.0.1:8888" # local` was no URL.
 */
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { parseDotEnv } from "../../../src/config/load.js";

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
  'A="unterminated',
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
