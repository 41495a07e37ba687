/**
 * `task list --from-block` past the chain's head: anvil refuses such a range
 * (BlockOutOfRangeError), and the list failed with TX_FAILED "could not coalesce error". No
 * block past the head holds a verdict, so the list is empty (on a devnet with several L2s a
 * block may be past one chain's head and not another's). A --to-block before --from-block is
 * refused naming --to-block. The built CLI against a real anvil with our AttestationCenter.
 */
import { describe, expect, it } from "vitest";
import { useAnvil } from "../../helpers/anvil.js";
import {
  avsctl,
  blockNumber,
  deployAttestationCenter,
  expectError,
  expectOk,
  useProjectDir,
} from "../task-def/fixture.js";

const chain = useAnvil({ chainId: 31338 });
const project = useProjectDir("list-range");

const list = async (flags: string[]) => {
  const ac = await deployed();
  return avsctl(["task", "list", ...flags], {
    cwd: project(),
    env: { L2_RPC: chain().rpcUrl, ATTESTATION_CENTER_ADDRESS: ac },
  });
};
let address: string | undefined;
const deployed = async () => {
  address ??= await deployAttestationCenter(chain());
  return address;
};

describe("task list block range", () => {
  it("a --from-block past the head is an empty list, and so is a --to-block past it", async () => {
    await deployed();
    const head = await blockNumber(chain());
    for (const flags of [
      ["--from-block", String(head + 80)],
      ["--from-block", String(head + 1), "--to-block", String(head + 5)],
      ["--from-block", "0", "--to-block", String(head + 80)],
      ["--to-block", String(head + 80)],
    ]) {
      const body = expectOk(await list(flags));
      expect(body, flags.join(" ")).toEqual({ chains: [31338], tasks: [] });
    }
  });

  it("a --to-block before --from-block is refused naming --to-block", async () => {
    const error = expectError(await list(["--from-block", "19", "--to-block", "17"]), 2, "INVALID_ARGUMENT");
    expect(error.message).toBe("--to-block: 17 is before --from-block 19");
    expect(error.details).toEqual({ argument: "--to-block" });
  });
});
