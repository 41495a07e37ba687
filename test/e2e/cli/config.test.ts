import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "avsctl-config-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const show = (cwd: string, env?: Record<string, string | undefined>, extra: string[] = []) =>
  runCli(["config", "show", "--json", ...extra], { cwd, env });

describe("config discovery in every supported format", () => {
  const formats: Array<[string, string]> = [
    ["avsctl.config.json", JSON.stringify({ name: "fmt-json", devnet: { attesters: 5 } })],
    ["avsctl.config.yaml", "name: fmt-yaml\ndevnet:\n  attesters: 5\n"],
    ["avsctl.config.mjs", "export default { name: 'fmt-mjs', devnet: { attesters: 5 } };\n"],
    ["avsctl.config.js", "export default { name: 'fmt-js', devnet: { attesters: 5 } };\n"],
    [
      "avsctl.config.ts",
      "interface C { name: string; devnet: { attesters: number } }\nconst c: C = { name: 'fmt-ts', devnet: { attesters: 5 } };\nexport default c;\n",
    ],
    [".avsctlrc", JSON.stringify({ name: "fmt-rc", devnet: { attesters: 5 } })],
    [".avsctlrc.yaml", "name: fmt-rc-yaml\ndevnet: { attesters: 5 }\n"],
    [
      "package.json",
      JSON.stringify({ name: "x", type: "module", avsctl: { name: "fmt-pkg", devnet: { attesters: 5 } } }),
    ],
  ];
  for (const [file, content] of formats) {
    it(`finds ${file}`, async () => {
      const files: Record<string, string> = { [file]: content };
      // .js config files are ESM here, like a project made by `avsctl init`
      if (file.endsWith(".js")) files["package.json"] = JSON.stringify({ type: "module" });
      const dir = project(files);
      const r = await show(dir);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const body = r.json();
      expect(path.basename(body.file)).toBe(file);
      expect(body.config.devnet.attesters).toBe(5);
      expect(body.config.name).toMatch(/^fmt-/);
    });
  }

  it("is found from a subdirectory of the project", async () => {
    const dir = project({ "avsctl.config.json": JSON.stringify({ name: "nested" }), "a/b/.keep": "" });
    const r = await show(path.join(dir, "a", "b"));
    expect(r.json().config.name).toBe("nested");
  });

  it("uses defaults without a file", async () => {
    const dir = project({ ".keep": "" });
    const r = await show(dir);
    expect(r.code).toBe(0);
    expect(r.json().file).toBeNull();
    expect(r.json().config.devnet.attesters).toBe(3);
  });
});

describe("invalid configuration", () => {
  it("a malformed file exits 2 naming the file", async () => {
    const dir = project({ "avsctl.config.json": "{ name: oops" });
    const r = await show(dir);
    expect(r.code).toBe(2);
    const err = r.json().error;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("avsctl.config.json");
  });

  it("a wrong type exits 2 naming the file and the key", async () => {
    const dir = project({ "avsctl.config.yaml": "devnet:\n  attesters: lots\n" });
    const r = await show(dir);
    expect(r.code).toBe(2);
    const err = r.json().error;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("avsctl.config.yaml");
    expect(err.details.key).toBe("devnet.attesters");
  });

  it("a key inside a list is named by its index", async () => {
    const dir = project({
      "avsctl.config.json": JSON.stringify({
        taskDefinitions: [{ name: "a" }, { name: "b", maxAttesters: -1 }],
      }),
    });
    const r = await show(dir);
    expect(r.code).toBe(2);
    expect(r.json().error.details.key).toBe("taskDefinitions[1].maxAttesters");
  });

  it("a secret in the file is refused", async () => {
    const dir = project({ "avsctl.config.json": JSON.stringify({ network: { privateKey: "0x01" } }) });
    const r = await show(dir);
    expect(r.code).toBe(2);
    expect(r.json().error.details.key).toBe("network.privateKey");
  });

  it("human mode prints one message on stderr and nothing on stdout", async () => {
    const dir = project({ "avsctl.config.json": JSON.stringify({ devnet: { runtime: "vm" } }) });
    const r = await runCli(["config", "show"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("devnet.runtime");
  });

  it("a missing --config file exits 2", async () => {
    const dir = project({ ".keep": "" });
    const r = await show(dir, undefined, ["--config", "nope.json"]);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("CONFIG_NOT_FOUND");
  });

  it("--config picks an explicit file", async () => {
    const dir = project({ "conf/other.yaml": "name: explicit\n" });
    const r = await show(dir, undefined, ["--config", "conf/other.yaml"]);
    expect(r.code).toBe(0);
    expect(r.json().config.name).toBe("explicit");
  });
});

describe("unknown keys", () => {
  it("are warnings, never sources of a value", async () => {
    const dir = project({
      "avsctl.config.json": JSON.stringify({ notAKey: 1, devnet: { attesters: 5, bogus: 1 } }),
    });
    const r = await show(dir);
    expect(r.code, r.stdout).toBe(0);
    const file = path.join(dir, "avsctl.config.json");
    expect(r.json().sources).toEqual({ file, "devnet.attesters": file });
    expect(r.json().warnings).toEqual([
      "notAKey: unknown key, ignored",
      "devnet.bogus: unknown key, ignored",
    ]);
    const human = await runCli(["config", "show"], { cwd: dir });
    expect(human.stdout).toContain(`devnet.attesters <- ${file}\n`);
    expect(human.stdout).not.toContain("bogus <-");
    expect(human.stdout).toContain("warning: devnet.bogus: unknown key, ignored\n");
  });

  it("a .js config's key left undefined sets nothing", async () => {
    const dir = project({
      "avsctl.config.mjs": "export default { devnet: { attesters: undefined, l2Chains: 2 } };\n",
    });
    const r = await show(dir);
    expect(r.code, r.stdout).toBe(0);
    expect(Object.keys(r.json().sources)).toEqual(["file", "devnet.l2Chains"]);
  });
});

describe("several config files in one directory", () => {
  it("warns naming the file used and the ones ignored, in the documented order", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "x", avsctl: { name: "from-pkg" } }),
      "avsctl.config.json": JSON.stringify({ name: "from-json" }),
      ".avsctlrc": JSON.stringify({ name: "from-rc" }),
      "avsctl.config.yaml": "name: from-yaml\n",
    });
    let r = await show(dir);
    expect(r.code).toBe(0);
    expect(r.json().config.name).toBe("from-pkg");
    expect(r.json().warnings).toEqual([
      expect.stringMatching(
        /^package\.json: its "avsctl" key is the configuration used; ignored beside it: \.avsctlrc, avsctl\.config\.json, avsctl\.config\.yaml /,
      ),
    ]);
    const human = await runCli(["config", "show"], { cwd: dir });
    expect(human.stdout).toContain('warning: package.json: its "avsctl" key is the configuration used;');
    // a package.json without the key is no configuration: .avsctlrc wins, and nothing names package.json
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "x" }));
    r = await show(dir);
    expect(r.json().config.name).toBe("from-rc");
    expect(r.json().warnings).toEqual([
      expect.stringMatching(
        /^\.avsctlrc: .*ignored beside it: avsctl\.config\.json, avsctl\.config\.yaml \(/,
      ),
    ]);
  });

  it("one file: no warning; --config: no warning", async () => {
    const dir = project({ "avsctl.config.json": JSON.stringify({ name: "one" }), "b.yaml": "name: b\n" });
    expect((await show(dir)).json().warnings).toEqual([]);
    writeFileSync(path.join(dir, ".avsctlrc"), "name: rc\n");
    expect((await show(dir, undefined, ["--config", "b.yaml"])).json().warnings).toEqual([]);
  });
});

describe("a config file that cannot be loaded: a hint that fits", () => {
  it("a .ts config whose code throws", async () => {
    const dir = project({ "avsctl.config.ts": 'throw new Error("no API key"); export default {};\n' });
    const err = (await show(dir)).json().error;
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect(err.message).toMatch(/avsctl\.config\.ts: loading it failed: no API key$/);
    expect(err.hint).toMatch(/code threw/);
    expect(err.hint).not.toMatch(/syntax/);
  });

  it("a .ts config with a syntax error keeps the syntax hint", async () => {
    const dir = project({ "avsctl.config.ts": "const x: number = ;\nexport default {};\n" });
    const err = (await show(dir)).json().error;
    expect(err.message).toMatch(/cannot be parsed/);
    expect(err.hint).toMatch(/syntax/);
  });

  it("--config naming a directory", async () => {
    const dir = project({ "conf/avsctl.config.json": JSON.stringify({ name: "in-conf" }) });
    const r = await show(dir, undefined, ["--config", "conf"]);
    expect(r.code).toBe(2);
    const err = r.json().error;
    expect(err.code).toBe("CONFIG_NOT_FOUND");
    expect(err.message).toBe(`${path.join(dir, "conf")} is a directory, not a config file`);
    expect(err.hint).toMatch(
      /^pass --config the file itself, or --cwd \S+ to use the configuration found there$/,
    );
    // the hint's --cwd, pasted where the command ran, finds the file
    const cwdArg = /--cwd (\S+)/.exec(err.hint)![1]!;
    const again = await runCli(["--cwd", cwdArg, "config", "show", "--json"], { cwd: dir });
    expect(again.json().config.name).toBe("in-conf");
  });

  it("--config naming a file of no format avsctl reads", async () => {
    const dir = project({ "custom.txt": "{}" });
    const r = await show(dir, undefined, ["-c", "custom.txt"]);
    expect(r.code).toBe(2);
    const err = r.json().error;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toMatch(/custom\.txt: avsctl reads no "\.txt" file$/);
    expect(err.hint).toMatch(/^name the config file \.json, \.yaml/);
  });
});

describe("environment overrides", () => {
  const file = JSON.stringify({
    network: {
      rpcUrl: "http://127.0.0.1:1111",
      attestationCenter: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    },
  });

  it("AVSCTL_* wins over the Othentic names, which win over the file", async () => {
    const dir = project({ "avsctl.config.json": file });
    let r = await show(dir, { L2_RPC: "http://127.0.0.1:2222" });
    expect(r.json().config.network.rpcUrl).toBe("http://127.0.0.1:2222");
    expect(r.json().sources["network.rpcUrl"]).toBe("env L2_RPC");
    r = await show(dir, { L2_RPC: "http://127.0.0.1:2222", AVSCTL_RPC_URL: "http://127.0.0.1:3333" });
    expect(r.json().config.network.rpcUrl).toBe("http://127.0.0.1:3333");
    r = await show(dir, { ATTESTATION_CENTER_ADDRESS: "80002@0xabc,84532@0xdef" });
    expect(r.json().config.network.attestationCenter).toBe("80002@0xabc,84532@0xdef");
    r = await show(dir, { AVSCTL_ATTESTATION_CENTER: "0x1234" });
    expect(r.json().config.network.attestationCenter).toBe("0x1234");
  });

  it("reads the project's .env; the real environment wins over it", async () => {
    const dir = project({
      "avsctl.config.json": file,
      ".env":
        "# comment\nL2_RPC=http://127.0.0.1:4444\nexport AVSCTL_KEYSTORE='/keys/op.json'\nPRIVATE_KEY=0xdeadbeef\n",
    });
    let r = await show(dir);
    expect(r.json().config.network.rpcUrl).toBe("http://127.0.0.1:4444");
    expect(r.json().config.network.keystore).toBe("/keys/op.json");
    // each said to come from the .env, not from the environment as a shell variable would be
    expect(r.json().sources).toMatchObject({
      "network.rpcUrl": ".env L2_RPC",
      "network.keystore": ".env AVSCTL_KEYSTORE",
    });
    expect(r.json().signer).toEqual({ source: ".env PRIVATE_KEY" });
    const human = await runCli(["config", "show"], { cwd: dir });
    expect(human.stdout).toContain("network.rpcUrl <- .env L2_RPC\n");
    expect(human.stdout).toContain("signer key: from .env PRIVATE_KEY (hidden)");
    r = await show(dir, { L2_RPC: "http://127.0.0.1:5555", PRIVATE_KEY: "0xbeef" });
    expect(r.json().config.network.rpcUrl).toBe("http://127.0.0.1:5555");
    expect(r.json().sources["network.rpcUrl"]).toBe("env L2_RPC");
    expect(r.json().sources["network.keystore"]).toBe(".env AVSCTL_KEYSTORE");
    expect(r.json().signer).toEqual({ source: "PRIVATE_KEY" });
  });

  it("reads a quoted .env value spanning lines; a quote left open exits 2 naming the file and line", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----";
    let dir = project({
      "avsctl.config.json": file,
      ".env": `CA_PEM="${pem}"\nL2_RPC="http://127.0.0.1:4444" # local\n`,
    });
    let r = await show(dir);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().sources["network.rpcUrl"]).toBe(".env L2_RPC");
    // before, the value ended at its first line, and the rest was taken for more lines
    dir = project({
      "avsctl.config.json": file,
      ".env":
        'PRIVATE_KEY=0xdeadbeef\nCA_PEM="-----BEGIN CERTIFICATE-----\nMIIB\nL2_RPC="http://127.0.0.1:4444"\n',
    });
    r = await show(dir);
    expect(r.code, r.stdout).toBe(2);
    const { error } = r.json();
    const env = path.join(dir, ".env");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(
      new RegExp(`^${env.replace(/[.]/g, "\\.")}:2: CA_PEM: the value's " quote closes on line 4`),
    );
    expect(error.details).toMatchObject({ file: env, line: 2, key: "CA_PEM" });
    const human = await runCli(["config", "show"], { cwd: dir });
    expect(human.code).toBe(2);
    expect(human.stdout).toBe("");
    expect(human.stderr).toContain(`${env}:2: CA_PEM:`);
  });

  it("never prints a private key, only where it came from", async () => {
    const dir = project({ "avsctl.config.json": file });
    const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    for (const json of [true, false]) {
      const r = await runCli(["config", "show", ...(json ? ["--json"] : [])], {
        cwd: dir,
        env: { AVSCTL_PRIVATE_KEY: key },
      });
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(key.slice(2));
      expect(r.stdout).toContain("AVSCTL_PRIVATE_KEY");
    }
  });
});
