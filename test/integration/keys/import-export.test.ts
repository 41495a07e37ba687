/**
 * `keys import` / `keys export` with other tools' keystores, through the built CLI:
 * - devkit: `test/fixtures/devkit-operator1.keystore.json` is devkit's own devnet keystore,
 *   copied unchanged from Layr-Labs/devkit-cli `config/keystores/operator1.keystore.json`
 *   (commit da8b2f80705445790f56ea0a7719451c232a4b46); its password "testpass" and operator
 *   (anvil key 3) are in that repository's `config/contexts/v0.0.5.yaml`.
 * - round trips through every export format, and raw keys on stdin.
 * - bad input (wrong password, tampered ciphertext, a swapped public key, a truncated file):
 *   exit 2, and the keys directory is left as it was.
 * The eigensdk-go side (its own writer and reader) is in eigensdk.test.ts.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blsPublicKey, blsPublicKeyG1, initBls } from "../../../src/crypto/bls.js";
import { g1ToWords, g2ToWords } from "../../../src/crypto/bls-encoding.js";
import { g2ToGnarkHex } from "../../../src/keys/formats.js";
import { repoRoot, runCli } from "../../helpers/cli.js";

const DEVKIT_FIXTURE = path.join(repoRoot, "test/fixtures/devkit-operator1.keystore.json");
const DEVKIT_PASSWORD = "testpass";
const ANVIL_KEY_3 = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ANVIL_KEY_4 = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
const PASSWORD = "import-export-password";

let work: string;
const keysDir = () => path.join(work, "keys");

async function keys(args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) {
  const r = await runCli(["keys", ...args, "--dir", keysDir(), "--json"], {
    cwd: work,
    input: opts.input,
    env: { AVSCTL_KEYSTORE_PASSWORD: undefined, AVSCTL_PRIVATE_KEY: undefined, ...opts.env },
  });
  const body = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  return { ...r, body };
}

function ok(r: Awaited<ReturnType<typeof keys>>) {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.body;
}

const listing = () => (existsSync(keysDir()) ? readdirSync(keysDir()).sort() : []);

/** Runs a command that must fail with exit 2 and this code, and write nothing. */
async function refused(args: string[], code: string, opts: Parameters<typeof keys>[1] = {}) {
  const before = listing();
  const r = await keys(args, opts);
  expect(r.body?.error?.code, `${r.stdout}\n${r.stderr}`).toBe(code);
  expect(r.code).toBe(2);
  expect(listing()).toEqual(before);
  return r.body.error as { code: string; message: string };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "avsctl-keys-io-"));
  await initBls();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("devkit keystores", () => {
  it("devkit's published operator keystore imports to the public key it declares", async () => {
    const declared = JSON.parse(readFileSync(DEVKIT_FIXTURE, "utf8")).publicKey as string;
    const r = ok(
      await keys(
        [
          "import",
          "devkit-op1",
          "--bls-keystore",
          DEVKIT_FIXTURE,
          "--private-key",
          ANVIL_KEY_3,
          "--password-stdin",
          "--insecure",
        ],
        { input: `${DEVKIT_PASSWORD}\n` },
      ),
    );
    expect(r.blsSource).toBe("devkit");
    expect(r.address).toBe(new Wallet(ANVIL_KEY_3).address);
    expect(g2ToGnarkHex(r.blsPublicKeyG2.map(BigInt))).toBe(declared);
    expect(r.blsPublicKey).toEqual(r.blsPublicKeyG2);

    const shown = ok(await keys(["show", "devkit-op1"]));
    expect(shown.blsPublicKeyG2).toEqual(r.blsPublicKeyG2);
    expect(shown.blsPublicKeyG1).toEqual(r.blsPublicKeyG1);
    expect(shown.files).toEqual(r.files);
  });

  it("a devkit export reads back, through devkit's encoding, to the same key", async () => {
    const r = ok(
      await keys(["export", "devkit-op1", "--format", "devkit", "--password-stdin", "--insecure"], {
        input: DEVKIT_PASSWORD,
      }),
    );
    const file = JSON.parse(readFileSync(r.file, "utf8"));
    expect(file.curveType).toBe("bn254");
    expect(file.version).toBe(4);
    expect(file.publicKey).toBe(JSON.parse(readFileSync(DEVKIT_FIXTURE, "utf8")).publicKey);
    const back = ok(
      await keys(
        [
          "import",
          "devkit-back",
          "--bls-keystore",
          r.file,
          "--private-key",
          ANVIL_KEY_3,
          "--password-stdin",
          "--insecure",
        ],
        {
          input: DEVKIT_PASSWORD,
        },
      ),
    );
    expect(back.blsPublicKeyG2).toEqual(r.blsPublicKeyG2);
  });
});

describe("round trips and raw keys", () => {
  it("a second stdin line that is no BLS secret: INVALID_KEY saying which line, with a hint about it", async () => {
    const error = (await refused(["import", "bad", "--key-stdin", "--insecure"], "INVALID_KEY", {
      input: `${ANVIL_KEY_4}\nhello123secret\n`,
      env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
    })) as unknown as { message: string; hint: string };
    expect(error.message).toMatch(/^BLS secret key: .*\(the second line of stdin\)$/);
    expect(error.hint).toBe("the second line of stdin is the BLS secret, decimal or 0x-hex");
  });

  it("raw keys on stdin: the BLS secret (decimal, as eigenlayer-cli prints it) is used as is", async () => {
    const secret = 98765432123456789012345n;
    const run = await keys(["import", "raw", "--key-stdin", "--insecure"], {
      input: `${ANVIL_KEY_4}\n${secret}\n`,
      env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
    });
    const r = ok(run);
    expect(r.blsSource).toBe("stdin");
    expect(r.address).toBe(new Wallet(ANVIL_KEY_4).address);
    expect(r.blsPublicKeyG1).toEqual(g1ToWords(blsPublicKeyG1(secret)));
    expect(r.blsPublicKeyG2).toEqual(g2ToWords(blsPublicKey(secret)));
    // neither secret is anywhere in the output
    for (const leak of [secret.toString(), secret.toString(16), ANVIL_KEY_4.slice(2)]) {
      expect(run.stdout + run.stderr).not.toContain(leak);
    }
  });

  it("every export format, with the ECDSA keystore, imports back to the same operator", async () => {
    const shown = ok(await keys(["show", "raw"]));
    for (const format of ["eigensdk", "devkit", "avsctl"]) {
      const out = path.join(work, `raw.${format}.json`);
      const e = ok(
        await keys(["export", "raw", "--format", format, "--out", out, "--insecure"], {
          env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
        }),
      );
      expect(e).toMatchObject({ format, file: out, blsPublicKeyG1: shown.blsPublicKeyG1 });
      const back = ok(
        await keys(
          [
            "import",
            `raw-${format}`,
            "--bls-keystore",
            out,
            "--ecdsa-keystore",
            shown.files.ecdsa,
            "--password-stdin",
            "--insecure",
          ],
          { input: PASSWORD },
        ),
      );
      expect(back.blsSource).toBe(format);
      expect(back.address).toBe(shown.address);
      expect(back.blsPublicKeyG1).toEqual(shown.blsPublicKeyG1);
      expect(back.blsPublicKeyG2).toEqual(shown.blsPublicKeyG2);
    }
    // an export never overwrites
    await refused(
      ["export", "raw", "--format", "eigensdk", "--out", path.join(work, "raw.eigensdk.json"), "--insecure"],
      "INVALID_ARGUMENT",
      { env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD } },
    );
  });
});

describe("bad input exits 2 and writes nothing", () => {
  let good: string;
  beforeAll(async () => {
    good = path.join(work, "good.eigensdk.json");
    ok(
      await keys(["export", "raw", "--format", "eigensdk", "--out", good, "--insecure"], {
        env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
      }),
    );
  });

  const importing = (file: string, password = PASSWORD) =>
    [
      [
        "import",
        "bad",
        "--bls-keystore",
        file,
        "--private-key",
        ANVIL_KEY_4,
        "--password-stdin",
        "--insecure",
      ],
      { input: password },
    ] as const;

  const variant = (name: string, edit: (json: any) => void) => {
    const json = JSON.parse(readFileSync(good, "utf8"));
    edit(json);
    const file = path.join(work, name);
    writeFileSync(file, JSON.stringify(json));
    return file;
  };

  it("a wrong password", async () => {
    const [args, opts] = importing(good, "not-the-password");
    const error = await refused([...args], "WRONG_PASSWORD", opts);
    expect(error.message).toContain(good);
    // the devkit file too
    const [a2, o2] = importing(DEVKIT_FIXTURE, "nope");
    await refused([...a2], "WRONG_PASSWORD", o2);
  });

  it("a tampered ciphertext", async () => {
    const file = variant("tampered.json", (j) => {
      const c: string = j.crypto.ciphertext;
      j.crypto.ciphertext = `${c.slice(0, -2)}${c.endsWith("00") ? "01" : "00"}`;
    });
    const [args, opts] = importing(file);
    expect((await refused([...args], "WRONG_PASSWORD", opts)).message).toContain(file);
  });

  it("a swapped public key", async () => {
    const file = variant("swapped.json", (j) => {
      const [x, y] = blsPublicKeyG1(777n);
      j.pubKey = `E([${x},${y}])`;
    });
    const [args, opts] = importing(file);
    expect((await refused([...args], "INVALID_KEY", opts)).message).toContain(file);

    const devkit = path.join(work, "devkit-swapped.json");
    const json = JSON.parse(readFileSync(DEVKIT_FIXTURE, "utf8"));
    json.publicKey = g2ToGnarkHex(blsPublicKey(777n));
    writeFileSync(devkit, JSON.stringify(json));
    const [a2, o2] = importing(devkit, DEVKIT_PASSWORD);
    expect((await refused([...a2], "INVALID_KEY", o2)).message).toContain(devkit);
  });

  it("a truncated file", async () => {
    const text = readFileSync(good, "utf8");
    const file = path.join(work, "truncated.json");
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    const [args, opts] = importing(file);
    expect((await refused([...args], "INVALID_KEY", opts)).message).toContain(file);
  });

  it("a ciphertext cut short: INVALID_KEY where the key has a fixed length, else it fails the MAC", async () => {
    const cut = (j: any) => {
      const crypto = j.crypto ?? j.Crypto; // ethers writes "Crypto"
      crypto.ciphertext = crypto.ciphertext.slice(0, -4);
    };
    const eigensdk = variant("cut.eigensdk.json", cut);
    const [args, opts] = importing(eigensdk);
    const error = await refused([...args], "INVALID_KEY", opts);
    expect(error.message).toBe(
      `--bls-keystore: ${eigensdk} is not a readable keystore: crypto.ciphertext is 30 bytes, not the 32 of a key (cut short?)`,
    );

    const ecdsaJson = JSON.parse(readFileSync(path.join(keysDir(), "raw.ecdsa.json"), "utf8"));
    cut(ecdsaJson);
    const ecdsa = path.join(work, "cut.ecdsa.json");
    writeFileSync(ecdsa, JSON.stringify(ecdsaJson));
    await refused(
      ["import", "bad", "--ecdsa-keystore", ecdsa, "--password-stdin", "--insecure"],
      "INVALID_KEY",
      {
        input: PASSWORD,
      },
    );

    // devkit reads a secret of any length, so nothing but the MAC tells a cut one
    const devkitJson = JSON.parse(readFileSync(DEVKIT_FIXTURE, "utf8"));
    cut(devkitJson);
    const devkit = path.join(work, "cut.devkit.json");
    writeFileSync(devkit, JSON.stringify(devkitJson));
    const [a2, o2] = importing(devkit, DEVKIT_PASSWORD);
    await refused([...a2], "WRONG_PASSWORD", o2);
  });

  it("a keystore file that is not there: INVALID_ARGUMENT naming the flag, before any password", async () => {
    const missing = path.join(work, "nosuch.json");
    for (const flag of ["--bls-keystore", "--ecdsa-keystore"]) {
      const args = ["import", "bad", flag, missing, "--insecure"];
      if (flag === "--bls-keystore") args.push("--private-key", ANVIL_KEY_4);
      // no password source at all: the file is refused first
      const error = (await refused(args, "INVALID_ARGUMENT")) as { message: string; details?: unknown };
      expect(error.message).toMatch(new RegExp(`^${flag}: cannot read ${missing}: ENOENT`));
      expect(error.details).toEqual({ argument: flag });
    }
  });

  it("an ECDSA keystore given as --bls-keystore: refused naming the flag, and the one it belongs to", async () => {
    // as avsctl writes it, and as ethers and geth write it ("Crypto", no 0x on the address)
    const ecdsa = JSON.parse(readFileSync(path.join(keysDir(), "raw.ecdsa.json"), "utf8"));
    const { crypto, Crypto, ...rest } = ecdsa;
    for (const [name, json] of [
      ["mixed.lower.json", { ...rest, crypto: crypto ?? Crypto }],
      [
        "mixed.upper.json",
        { ...rest, address: String(rest.address).replace(/^0x/, ""), Crypto: crypto ?? Crypto },
      ],
    ] as const) {
      const file = path.join(work, name);
      writeFileSync(file, JSON.stringify(json));
      const error = (await refused(
        ["import", "bad", "--bls-keystore", file, "--private-key", ANVIL_KEY_4, "--insecure"],
        "INVALID_KEY",
      )) as { message: string; details?: unknown };
      expect(error.message).toBe(
        `--bls-keystore: ${file} is not a readable keystore: this is an ECDSA keystore; pass it with --ecdsa-keystore`,
      );
      expect(error.details).toEqual({ argument: "--bls-keystore" });
    }
  });

  it("an ECDSA keystore with a wrong password, or altered", async () => {
    const ecdsa = path.join(keysDir(), "raw.ecdsa.json");
    const base = ["import", "bad", "--ecdsa-keystore", ecdsa, "--password-stdin", "--insecure"];
    await refused(base, "WRONG_PASSWORD", { input: "not-the-password" });
    const json = JSON.parse(readFileSync(ecdsa, "utf8"));
    json.address = "0000000000000000000000000000000000000001";
    const altered = path.join(work, "altered.ecdsa.json");
    writeFileSync(altered, JSON.stringify(json));
    await refused(
      ["import", "bad", "--ecdsa-keystore", altered, "--password-stdin", "--insecure"],
      "INVALID_KEY",
      {
        input: PASSWORD,
      },
    );
  });

  it("an ECDSA source given twice, or none", async () => {
    await refused(
      ["import", "bad", "--private-key", ANVIL_KEY_4, "--key-stdin", "--insecure"],
      "INVALID_ARGUMENT",
      { env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD } },
    );
    await refused(["import", "bad", "--bls-keystore", good, "--insecure"], "MISSING_ARGUMENT", {
      env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD },
    });
  });
});
