import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Interface, ZeroAddress, ZeroHash } from "ethers";
import { describe, expect, it } from "vitest";
import { decodeRevertData } from "../../src/chain/rpc.js";
import { RpcCallError } from "../../src/node/rpc-client.js";
import { repoRoot } from "../helpers/cli.js";

function solidityFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? solidityFiles(path.join(dir, e.name))
      : e.name.endsWith(".sol")
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every `error Name(...)` declared in contracts/, as ethers fragments. */
const declared = [
  ...new Set(
    solidityFiles(path.join(repoRoot, "contracts")).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/^\s*error\s+(\w+\s*\([^)]*\))\s*;/gm)].map(
        (m) => `error ${m[1]!.replace(/\s+/g, " ")}`,
      ),
    ),
  ),
];

function zeroOf(type: string): unknown {
  if (type === "address") return ZeroAddress;
  if (type === "bool") return false;
  if (type === "string") return "";
  if (type === "bytes") return "0x";
  if (type.startsWith("bytes")) return ZeroHash.slice(0, 2 + 2 * Number(type.slice(5)));
  return 0n;
}

describe("revert decoding", () => {
  it("finds the custom errors of contracts/", () => {
    expect(declared.length).toBeGreaterThan(20);
    expect(declared).toContain("error OperatorAlreadyRegistered(address operator)");
  });

  it("names every custom error of our contracts, with its arguments", async () => {
    for (const fragment of declared) {
      const iface = new Interface([fragment]);
      const error = iface.fragments[0] as import("ethers").ErrorFragment;
      const data = iface.encodeErrorResult(
        error,
        error.inputs.map((i) => zeroOf(i.type)),
      );
      const decoded = await decodeRevertData(data);
      expect(decoded?.name, fragment).toBe(error.name);
      expect(Object.keys(decoded!.args)).toHaveLength(error.inputs.length);
    }
  });

  it("names OperatorAlreadyRegistered (0x866b0dcf), which the relayer meets on every start", async () => {
    const data = `0x866b0dcf${"70997970c51812dc3a010c7d01b50e0d17dc79c8".padStart(64, "0")}`;
    expect(await decodeRevertData(data)).toMatchObject({
      name: "OperatorAlreadyRegistered",
      args: { operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
    });
  });

  it("still names Othentic's errors and Error(string)", async () => {
    const othentic = new Interface(["error InvalidOperatorIndexes()"]);
    expect((await decodeRevertData(othentic.encodeErrorResult("InvalidOperatorIndexes", [])))?.name).toBe(
      "InvalidOperatorIndexes",
    );
    const reason = new Interface(["error Error(string)"]).encodeErrorResult("Error", ["nope"]);
    expect(await decodeRevertData(reason)).toMatchObject({ name: "Error", args: { message: "nope" } });
    expect(await decodeRevertData("0xdeadbeef")).toBeUndefined();
  });

  it("spells a node's revert by name in the node runtime's RPC errors (and so in its logs)", () => {
    const data = `0x866b0dcf${"0".repeat(64)}`;
    const error = new RpcCallError(
      "eth_call",
      3,
      `execution reverted: custom error 0x866b0dcf: ${"0".repeat(64)}`,
      data,
    );
    expect(error.message).toBe(`eth_call: execution reverted: OperatorAlreadyRegistered(${ZeroAddress})`);
    expect(
      new RpcCallError("eth_call", 3, "execution reverted: custom error 0x12345678", "0x12345678").message,
    ).toBe("eth_call: execution reverted: custom error 0x12345678");
  });
});
