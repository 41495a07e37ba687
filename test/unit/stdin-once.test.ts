/**
 * A password given on stdin reaches every reader in the command: `workflow run --keystore
 * --password-stdin` signs in to the engine and signs its writes with the same keystore.
 */
import { Readable } from "node:stream";
import { afterEach, expect, it } from "vitest";
import { readStdinText } from "../../src/cli/handlers/signer-flags.js";

const realStdin = Object.getOwnPropertyDescriptor(process, "stdin")!;
afterEach(() => {
  Object.defineProperty(process, "stdin", realStdin);
});

it("reads stdin once and gives the same text to a second reader", async () => {
  Object.defineProperty(process, "stdin", {
    configurable: true,
    value: Readable.from([Buffer.from("s3cret\n")]),
  });
  expect(await readStdinText()).toBe("s3cret\n");
  expect(await readStdinText()).toBe("s3cret\n");
});
