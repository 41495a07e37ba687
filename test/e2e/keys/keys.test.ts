/**
 * `avsctl keys` end to end: keystores written by the built CLI are read back independently
 * (ethers for the Web3 Secret Storage file, the BLS keystore decrypted and its public key
 * recomputed), no command prints a secret, and a keystore signs `task-def create` on a real
 * anvil whose chain id is not the devnet's (so the anvil keys are refused there too).
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { blsPublicKey, blsSecretFromSeed, initBls } from "../../../src/crypto/bls.js";
import { g2ToWords } from "../../../src/crypto/bls-encoding.js";
import { decryptBlsSecret } from "../../../src/keys/keystore.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  avsctl,
  chainMark,
  DEPLOYER,
  DEPLOYER_KEY,
  expectError,
  expectOk,
  fund,
  grantGovernance,
  useAttestationCenter,
  useProjectDir,
} from "../task-def/fixture.js";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const vector = JSON.parse(readFileSync(path.join(repoRoot, "test/fixtures/bls-othentic.json"), "utf8")) as {
  seed: string;
  publicKeyG2: string[];
};

const chain = useAnvil({ chainId: 5555 });
const project = useProjectDir("keys");
const keysDir = () => path.join(project(), "keys");
const PASSWORD = "devnet-password";

const keys = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
  avsctl(["keys", ...args, "--dir", keysDir()], { cwd: project(), env, input });

/** Every form a leaked secret could take in output. */
function secretForms(hex: string): RegExp {
  const body = hex.replace(/^0x/, "");
  return new RegExp(body, "i");
}

describe("keys create, list, show, import", () => {
  beforeAll(async () => {
    await initBls();
  });

  it("create writes an ECDSA Web3 keystore and a BLS keystore of the same operator", async () => {
    const r = expectOk(await keys(["create", "alice", "--insecure"], { AVSCTL_KEYSTORE_PASSWORD: PASSWORD }));
    expect(r.name).toBe("alice");
    expect(r.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(r.blsPublicKey).toHaveLength(4);
    for (const word of r.blsPublicKey) expect(word).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.files).toEqual({
      ecdsa: path.join(keysDir(), "alice.ecdsa.json"),
      bls: path.join(keysDir(), "alice.bls.json"),
    });
    for (const file of Object.values<string>(r.files)) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(keysDir()).mode & 0o777).toBe(0o700);

    // any wallet can open the ECDSA file
    const wallet = await Wallet.fromEncryptedJson(readFileSync(r.files.ecdsa, "utf8"), PASSWORD);
    expect(wallet.address).toBe(r.address);
    // the BLS file holds the key Othentic's clients derive from that ECDSA key
    const secret = decryptBlsSecret(JSON.parse(readFileSync(r.files.bls, "utf8")), PASSWORD, r.files.bls);
    expect(BigInt(`0x${Buffer.from(secret).toString("hex")}`)).toBe(blsSecretFromSeed(wallet.privateKey));
    expect(g2ToWords(blsPublicKey(blsSecretFromSeed(wallet.privateKey)))).toEqual(r.blsPublicKey);
    // and neither file holds a secret in clear
    for (const file of Object.values<string>(r.files)) {
      const text = readFileSync(file, "utf8");
      expect(text).not.toMatch(secretForms(wallet.privateKey));
      expect(text).not.toMatch(secretForms(Buffer.from(secret).toString("hex")));
    }
  });

  it("create takes the password from --password-stdin", async () => {
    const r = expectOk(await keys(["create", "bob", "--insecure", "--password-stdin"], {}, "stdin secret\n"));
    const wallet = await Wallet.fromEncryptedJson(readFileSync(r.files.ecdsa, "utf8"), "stdin secret");
    expect(wallet.address).toBe(r.address);
  });

  it("a strong password needs no --insecure, and gets the full scrypt cost", async () => {
    const r = expectOk(
      await keys(["create", "carol"], { AVSCTL_KEYSTORE_PASSWORD: "Correct-Horse-42-Battery" }),
    );
    const ecdsa = JSON.parse(readFileSync(r.files.ecdsa, "utf8"));
    const bls = JSON.parse(readFileSync(r.files.bls, "utf8"));
    // ethers writes geth's capitalised "Crypto"; readers accept either
    expect((ecdsa.crypto ?? ecdsa.Crypto).kdfparams.n).toBeGreaterThanOrEqual(1 << 17);
    expect(bls.crypto.kdfparams.n).toBeGreaterThanOrEqual(1 << 17);
  });

  it("a weak password without --insecure exits 2 and writes nothing", async () => {
    const r = await keys(["create", "weak"], { AVSCTL_KEYSTORE_PASSWORD: "short" });
    expectError(r, 2, "INVALID_ARGUMENT");
    expect(readdirSync(keysDir()).filter((f) => f.startsWith("weak"))).toEqual([]);
  });

  it("refuses to overwrite a name, a bad name, and a missing password (exit 2)", async () => {
    const before = readFileSync(path.join(keysDir(), "alice.ecdsa.json"), "utf8");
    expectError(
      await keys(["create", "alice", "--insecure"], { AVSCTL_KEYSTORE_PASSWORD: PASSWORD }),
      2,
      "INVALID_ARGUMENT",
    );
    expect(readFileSync(path.join(keysDir(), "alice.ecdsa.json"), "utf8")).toBe(before);
    expectError(
      await keys(["create", "../escape", "--insecure"], { AVSCTL_KEYSTORE_PASSWORD: PASSWORD }),
      2,
      "INVALID_ARGUMENT",
    );
    expectError(await keys(["create", "nopass", "--insecure"]), 2, "MISSING_ARGUMENT");
  });

  it("import of the vector's seed derives the known BLS public key", async () => {
    const r = expectOk(
      await keys(["import", "vector", "--insecure", "--private-key", vector.seed], {
        AVSCTL_KEYSTORE_PASSWORD: PASSWORD,
      }),
    );
    expect(r.address).toBe(new Wallet(vector.seed).address);
    expect(r.blsPublicKey).toEqual(vector.publicKeyG2);
  });

  it("import takes the key from AVSCTL_PRIVATE_KEY, and needs one", async () => {
    const r = expectOk(
      await keys(["import", "deployer", "--insecure"], {
        AVSCTL_KEYSTORE_PASSWORD: PASSWORD,
        AVSCTL_PRIVATE_KEY: DEPLOYER_KEY,
      }),
    );
    expect(r.address).toBe(DEPLOYER);
    expectError(
      await keys(["import", "nokey", "--insecure"], { AVSCTL_KEYSTORE_PASSWORD: PASSWORD }),
      2,
      "MISSING_ARGUMENT",
    );
    expectError(
      await keys(["import", "badkey", "--insecure", "--private-key", "0x1234"], {
        AVSCTL_KEYSTORE_PASSWORD: PASSWORD,
      }),
      2,
      "INVALID_KEY",
    );
  });

  it("list shows names, addresses and BLS public keys", async () => {
    const r = expectOk(await keys(["list"]));
    expect(r.keys.map((k: { name: string }) => k.name)).toEqual([
      "alice",
      "bob",
      "carol",
      "deployer",
      "vector",
    ]);
    for (const k of r.keys) {
      expect(Object.keys(k).sort()).toEqual(["address", "blsPublicKey", "name"]);
      expect(k.blsPublicKey).toHaveLength(4);
    }
    expect(r.keys.find((k: { name: string }) => k.name === "deployer").address).toBe(DEPLOYER);
    expect(r.keys.find((k: { name: string }) => k.name === "vector").blsPublicKey).toEqual(
      vector.publicKeyG2,
    );
  });

  it("show prints addresses and public keys, never a secret; --reveal without a TTY exits 2", async () => {
    const wallet = await Wallet.fromEncryptedJson(
      readFileSync(path.join(keysDir(), "alice.ecdsa.json"), "utf8"),
      PASSWORD,
    );
    const blsSecret = blsSecretFromSeed(wallet.privateKey).toString(16).padStart(64, "0");
    const leaks = (text: string) =>
      secretForms(wallet.privateKey).test(text) || secretForms(blsSecret).test(text);

    const json = await keys(["show", "alice"], { AVSCTL_KEYSTORE_PASSWORD: PASSWORD });
    const r = expectOk(json);
    expect(r.name).toBe("alice");
    expect(r.address).toBe(wallet.address);
    expect(r.blsPublicKey).toHaveLength(4);
    expect(leaks(json.stdout + json.stderr)).toBe(false);

    const human = await avsctl(["keys", "show", "alice", "--dir", keysDir()], {
      cwd: project(),
      json: false,
    });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(wallet.address);
    expect(leaks(human.stdout + human.stderr)).toBe(false);

    for (const json of [true, false]) {
      const reveal = await avsctl(["keys", "show", "alice", "--reveal", "--dir", keysDir()], {
        cwd: project(),
        env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
        json,
      });
      expect(reveal.code).toBe(2);
      if (json) expect(reveal.body.error.code).toBe("INVALID_ARGUMENT");
      expect(leaks(reveal.stdout + reveal.stderr)).toBe(false);
    }

    expectError(await keys(["show", "nobody"]), 1, "NOT_FOUND");
  });
});

describe("a keystore as the task-def signer", () => {
  const center = useAttestationCenter(chain);
  let ops: { address: string; file: string };
  const target = () => center().flags;
  const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
    avsctl(args, { cwd: project(), env, input });

  beforeAll(async () => {
    const created = expectOk(
      await avsctl(["keys", "create", "ops", "--insecure", "--dir", keysDir()], {
        cwd: project(),
        env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
      }),
    );
    ops = { address: created.address, file: created.files.ecdsa };
    // the operator's own key becomes an AVS governance key, and gets gas money
    await grantGovernance(center(), ops.address);
    await fund(chain(), ops.address);
  });

  it("signs task-def create with the password from AVSCTL_KEYSTORE_PASSWORD or stdin", async () => {
    const { provider, contract } = center();
    const first = expectOk(
      await run(
        [
          "task-def",
          "create",
          "--name",
          "by-keystore",
          "--min-voting-power",
          "3",
          ...target(),
          "--keystore",
          ops.file,
        ],
        {
          AVSCTL_KEYSTORE_PASSWORD: PASSWORD,
        },
      ),
    );
    expect(first.taskDefinitionId).toBe(1);
    expect((await provider.getTransaction(first.txHash))!.from).toBe(ops.address);
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(3n);

    const second = expectOk(
      await run(
        [
          "task-def",
          "create",
          "--name",
          "by-keystore-stdin",
          ...target(),
          "--keystore",
          ops.file,
          "--password-stdin",
        ],
        {},
        `${PASSWORD}\n`,
      ),
    );
    expect(second.taskDefinitionId).toBe(2);
    expect((await provider.getTransaction(second.txHash))!.from).toBe(ops.address);

    // AVSCTL_KEYSTORE names the keystore when no flag does
    const third = expectOk(
      await run(["task-def", "set-min-voting-power", "2", "4", ...target()], {
        AVSCTL_KEYSTORE: ops.file,
        AVSCTL_KEYSTORE_PASSWORD: PASSWORD,
      }),
    );
    expect((await provider.getTransaction(third.txHash))!.from).toBe(ops.address);
    expect(await contract.getTaskDefinitionMinimumVotingPower(2)).toBe(4n);
  });

  it("a keystore named in the config file is found relative to that file, from any subdirectory", async () => {
    const { address: ac, provider, contract } = center();
    const dir = path.join(project(), "configured");
    mkdirSync(path.join(dir, "src", "deep"), { recursive: true });
    writeFileSync(
      path.join(dir, "avsctl.config.json"),
      JSON.stringify({
        network: {
          rpcUrl: chain().rpcUrl,
          attestationCenter: ac,
          keystore: path.relative(dir, ops.file),
        },
      }),
    );
    const r = expectOk(
      await avsctl(["task-def", "set-min-voting-power", "1", "6"], {
        cwd: path.join(dir, "src", "deep"),
        env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
      }),
    );
    expect((await provider.getTransaction(r.txHash))!.from).toBe(ops.address);
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(6n);
  });

  it("a wrong password exits 2 with WRONG_PASSWORD and sends nothing", async () => {
    const before = await chainMark(chain(), ops.address);
    const r = await run(["task-def", "create", "--name", "nope", ...target(), "--keystore", ops.file], {
      AVSCTL_KEYSTORE_PASSWORD: "not-the-password",
    });
    const error = expectError(r, 2, "WRONG_PASSWORD");
    expect(error.message).toContain("ops.ecdsa.json");
    expect(r.stdout + r.stderr).not.toContain("not-the-password");
    const human = await avsctl(
      ["task-def", "create", "--name", "nope", ...target(), "--keystore", ops.file],
      {
        cwd: project(),
        env: { AVSCTL_KEYSTORE_PASSWORD: "not-the-password" },
        json: false,
      },
    );
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/wrong password/);
    expect(await chainMark(chain(), ops.address)).toEqual(before);
  });

  it("a keystore without a password source exits 2 naming the flag", async () => {
    const r = await run(["task-def", "create", "--name", "nope", ...target(), "--keystore", ops.file]);
    expect(expectError(r, 2, "MISSING_ARGUMENT").details.argument).toBe("--password-stdin");
  });

  it("a keystore holding an anvil key is refused off the devnet unless --allow-dev-keys", async () => {
    const { provider } = center();
    const file = path.join(keysDir(), "deployer.ecdsa.json");
    expect(existsSync(file)).toBe(true);
    const before = await chainMark(chain());
    const env = { AVSCTL_KEYSTORE_PASSWORD: PASSWORD };
    expectError(
      await run(["task-def", "create", "--name", "dev", ...target(), "--keystore", file], env),
      2,
      "DEV_KEY_REFUSED",
    );
    expect(await chainMark(chain())).toEqual(before);
    const r = expectOk(
      await run(
        ["task-def", "create", "--name", "dev", ...target(), "--keystore", file, "--allow-dev-keys"],
        env,
      ),
    );
    expect((await provider.getTransaction(r.txHash))!.from).toBe(DEPLOYER);
  });
});
