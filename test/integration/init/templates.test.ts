/**
 * The generated projects, for real: scaffold each language, install its dependencies from its
 * own registry, run its own tests with its own toolchain, then run the services as processes
 * and check that every validation service accepts every execution service's proofs and that
 * all of them reject tampered ones. The reports are pinned to avsctl's own IPFS node (its Pinata
 * API and gateway), as on a devnet. Network: 127.0.0.1 only (a price feed, the aggregator and
 * the IPFS node run inside this test).
 */

import { symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AbiCoder, getAddress, hexlify, keccak256, recoverAddress, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionSends } from "../../../src/client/send.js";
import {
  installDependencies,
  LANGUAGES,
  type Language,
  type ScaffoldResult,
  scaffoldProject,
} from "../../../src/init/scaffold.js";
import { type IpfsServer, startIpfsServer } from "../../../src/ipfs/server.js";
import { runTasks } from "../../../src/task/run.js";
import {
  childEnv,
  PERFORMER,
  postJson,
  run,
  SERVICES,
  type Service,
  type ServiceHarness,
  startServiceHarness,
} from "./support.js";

/** Polls `cond` every 50 ms for at most 10 s (a service's line may trail its answer). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

let tmp: string;
const projects = {} as Record<Language, ScaffoldResult>;
const blanks = {} as Record<Language, ScaffoldResult>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-init-it-"));
  for (const language of LANGUAGES) {
    projects[language] = await scaffoldProject({
      dir: path.join(tmp, `oracle-${language}`),
      template: "price-oracle",
      language,
      install: true,
      installOptions: { env: childEnv },
    });
    blanks[language] = await scaffoldProject({
      dir: path.join(tmp, `blank-${language}`),
      template: "blank",
      language,
      install: false,
    });
  }
  // The blank projects share the price-oracle's manifests (the same _shared layer), so they reuse
  // its installed dependencies instead of downloading them a second time.
  for (const service of SERVICES) {
    symlinkSync(
      path.join(projects.typescript.path, service, "node_modules"),
      path.join(blanks.typescript.path, service, "node_modules"),
    );
  }
  symlinkSync(path.join(projects.python.path, ".venv"), path.join(blanks.python.path, ".venv"));
}, 600_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs a generated project's own tests with its own toolchain. */
async function runOwnTests(project: ScaffoldResult): Promise<void> {
  for (const service of SERVICES) {
    const cwd = path.join(project.path, service);
    if (project.language === "typescript") {
      expect(await run("npm", ["test"], cwd)).toMatch(/ℹ fail 0/);
      await run("npm", ["run", "typecheck"], cwd);
    } else if (project.language === "python") {
      expect(await run(path.join(project.path, ".venv/bin/python"), ["-m", "pytest"], cwd)).toMatch(
        /\d+ passed/,
      );
    } else {
      expect(await run("go", ["vet", "./..."], cwd)).toBe("");
      expect(await run("go", ["test", "-count=1", "./..."], cwd)).toMatch(/^ok\s/m);
    }
  }
}

describe("generated projects pass their own tests", () => {
  for (const language of LANGUAGES) {
    // Generous: on a machine with an empty Go build cache, the first go test compiles net/http and crypto.
    it(`price-oracle in ${language}`, { timeout: 300_000 }, async () => {
      expect(projects[language].installed).toBe(true);
      await runOwnTests(projects[language]);
    });
    it(`blank in ${language}`, { timeout: 300_000 }, async () => {
      await runOwnTests(blanks[language]);
    });
  }
});

describe("installDependencies failures", () => {
  it("reports a missing toolchain as TOOLCHAIN_MISSING", async () => {
    const env = { PATH: path.join(tmp, "no-such-bin") };
    for (const language of LANGUAGES) {
      await expect(
        installDependencies(blanks[language].path, language, { env }),
        language,
      ).rejects.toMatchObject({ code: "TOOLCHAIN_MISSING" });
    }
  });

  it("reports a failing install command as COMMAND_FAILED with its output", async () => {
    const dir = path.join(tmp, "broken-go");
    await scaffoldProject({ dir, template: "blank", language: "go" });
    writeFileSync(path.join(dir, "execution-service/go.mod"), "this is not a go.mod\n");
    const error = await installDependencies(dir, "go", { env: childEnv }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "COMMAND_FAILED",
      details: { cwd: path.join(dir, "execution-service") },
    });
    expect((error as { details: { output: string } }).details.output).toMatch(/go\.mod/);
  });
});

// ---- cross-language: real service processes, a local price feed, a fake aggregator ----

function taskHash(proofOfTask: string, data: string, performer: string, taskDefinitionId: number): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "bytes", "address", "uint16"],
      [proofOfTask, data, performer, taskDefinitionId],
    ),
  );
}

describe("services across languages", () => {
  let ipfs: IpfsServer;
  let services: ServiceHarness;
  const execution = {} as Record<Language, string>;
  const validation = {} as Record<Language, string>;
  const validationService = {} as Record<Language, Service>;

  beforeAll(async () => {
    ipfs = await startIpfsServer({ dataDir: path.join(tmp, "ipfs") });
    services = await startServiceHarness(
      { ETHUSDT: "3000.00" },
      { PRICE_TOLERANCE_BPS: "100", PINATA_API_URL: ipfs.pinataUrl, PINATA_GATEWAY: ipfs.gatewayUrl },
    );
    const binDir = path.join(tmp, "bin");
    for (const language of LANGUAGES) {
      const root = projects[language].path;
      for (const service of SERVICES) {
        const cwd = path.join(root, service);
        let started: Service;
        if (language === "typescript") {
          started = await services.start({ cwd });
        } else if (language === "python") {
          started = await services.start({
            command: path.join(root, ".venv/bin/python"),
            args: ["server.py"],
            cwd,
          });
        } else {
          const binary = path.join(binDir, `${service}-go`);
          await run("go", ["build", "-o", binary, "."], cwd);
          started = await services.start({ command: binary, args: [], cwd });
        }
        if (service === "execution-service") execution[language] = started.url;
        else {
          validation[language] = started.url;
          validationService[language] = started;
        }
      }
    }
  }, 300_000);

  afterAll(async () => {
    await services?.stop();
    await ipfs?.close();
  });

  /** Pins a report's JSON text to the IPFS node as an execution service does; answers its CID. */
  async function pin(text: string): Promise<string> {
    const response = await fetch(`${ipfs.pinataUrl}/pinning/pinJSONToIPFS`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pinataContent: JSON.parse(text), pinataMetadata: { name: "price-report" } }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { IpfsHash: string }).IpfsHash;
  }

  /** A report's canonical JSON text and its data. */
  function canonical(price: string, round = 1): { text: string; data: string } {
    const text = `{"price":"${price}","round":${round},"symbol":"ETHUSDT","timestamp":1700000000}`;
    return { text, data: hexlify(toUtf8Bytes(text)) };
  }

  async function verdicts(body: Record<string, unknown>): Promise<Record<Language, unknown>> {
    const out = {} as Record<Language, unknown>;
    for (const language of LANGUAGES) {
      const answer = await postJson(`${validation[language]}/task/validate`, body);
      expect(answer.status, `${language} validation status`).toBe(200);
      expect(answer.body).toMatchObject({ error: false, message: null });
      out[language] = answer.body.data;
    }
    return out;
  }

  const allTrue = { typescript: true, python: true, go: true };
  const allFalse = { typescript: false, python: false, go: false };

  for (const producer of LANGUAGES) {
    it(`a proof from the ${producer} execution service is sent signed and approved by every validation service`, async () => {
      const before = services.aggregator.sendTasks.length;
      const { status, body } = await postJson(`${execution[producer]}/task/execute`, {
        symbol: "ETHUSDT",
        taskDefinitionId: 1,
      });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({
        error: false,
        message: null,
        data: { taskDefinitionId: 1, performer: PERFORMER },
      });
      const { proofOfTask, data } = body.data;
      const report = JSON.parse(Buffer.from(data.slice(2), "hex").toString("utf8"));
      expect(Number.isSafeInteger(report.round) && report.round > 0).toBe(true);
      expect(data).toBe(
        hexlify(
          toUtf8Bytes(
            `{"price":"3000.00","round":${report.round},"symbol":"ETHUSDT","timestamp":1700000000}`,
          ),
        ),
      );
      // The proof is the CID under which the node holds exactly the report in data.
      expect(proofOfTask).toMatch(/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/);
      const stored = await fetch(`${ipfs.gatewayUrl}${proofOfTask}`);
      expect(stored.status).toBe(200);
      expect(hexlify(new Uint8Array(await stored.arrayBuffer()))).toBe(data);

      expect(services.aggregator.sendTasks.length).toBe(before + 1);
      const params = services.aggregator.sendTasks[before] as unknown[];
      expect(params.slice(0, 4)).toEqual([proofOfTask, data, 1, PERFORMER]);
      expect(params[5]).toBe("ecdsa");
      const hash = taskHash(proofOfTask, data, PERFORMER, 1);
      expect(body.data.taskHash).toBe(hash);
      expect(getAddress(recoverAddress(hash, params[4] as string))).toBe(PERFORMER);

      const request = { proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER };
      expect(await verdicts(request)).toEqual(allTrue);
    });
  }

  for (const producer of LANGUAGES) {
    it(`the ${producer} execution service, its sendTask cut after the aggregator took the task, hands the task back and task send sends that very task: one task`, async () => {
      const tap = services.aggregator;
      const before = tap.sendTasks.length;
      tap.cutNextSendTask();
      // as `task send --via execution` sends: the task handed back goes again as itself
      const sends = executionSends(
        execution[producer],
        { taskDefinitionId: 1, symbol: "ETHUSDT" },
        PERFORMER,
        tap.url,
      );
      const summary = await runTasks({
        count: 1,
        concurrency: 1,
        wait: false,
        timeoutMs: 20_000,
        chainId: 31338,
        idempotent: (i) => sends.signedTask(i) !== undefined,
        sendOne: sends.sendOne,
        taskOf: (i) => sends.signedTask(i) ?? {},
      });
      const [r] = summary.results;
      expect(r, r?.error).toMatchObject({ status: "sent" });
      expect(summary).toMatchObject({ sent: 1, alreadyKnown: 0, failed: 0, retried: 1 });
      expect(r!.duplicate).toBeUndefined();
      // the service's send and avsctl's: the same signed task, taken once
      const [first, again, ...more] = tap.sendTasks.slice(before);
      expect(more).toEqual([]);
      expect(again).toEqual(first);
      expect(r!.taskHash).toBe(taskHash(...(first!.slice(0, 2) as [string, string]), PERFORMER, 1));
      const journal = await postJson(tap.rpcUrl, {
        jsonrpc: "2.0",
        id: 1,
        method: "avsctl_taskStatus",
        params: [r!.taskHash],
      });
      expect(journal.body.result).toMatchObject({ taskHash: r!.taskHash, status: "pending" });
    });
  }

  it("the TypeScript execution service reaches the aggregator as Othentic's does: one batch, eth_chainId first", () => {
    expect(services.aggregator.batches).toContainEqual(["eth_chainId", "sendTask"]);
  });

  it("a proof that is no CID, or a CID the node does not hold, is rejected by every validation service", async () => {
    const { data } = canonical("3000.00");
    // `echo "hello world" | ipfs add`: a real CID, never pinned to this node (its gateway answers 404).
    const unknown = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
    // keccak256(data): the proof this template used before it pinned reports.
    for (const proofOfTask of [keccak256(data), unknown]) {
      expect(
        await verdicts({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER }),
        proofOfTask,
      ).toEqual(allFalse);
    }
  });

  it("a pinned report that is not the one in data is rejected by every validation service", async () => {
    const proofOfTask = await pin(canonical("3000.00", 1).text);
    for (const { data } of [canonical("3000.00", 2), canonical("3000.01", 1)]) {
      expect(await verdicts({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER })).toEqual(
        allFalse,
      );
    }
  });

  it('data missing or null checks the pinned report alone; data "" or "0x" is rejected, in every language', async () => {
    const proofOfTask = await pin(canonical("3000.00").text);
    expect(await verdicts({ proofOfTask, taskDefinitionId: 1, performer: PERFORMER })).toEqual(allTrue);
    for (const data of [null, "", "0x"]) {
      expect(
        await verdicts({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER }),
        JSON.stringify(data),
      ).toEqual(data === null ? allTrue : allFalse);
    }
  });

  it("each validation service logs a line tagged with the taskHash avsctl's attesters send along", async () => {
    for (const [price, approved] of [
      ["3000.00", true],
      ["3100.00", false],
    ] as const) {
      const { text, data } = canonical(price);
      const proofOfTask = await pin(text);
      const hash = taskHash(proofOfTask, data, PERFORMER, 1);
      const verdict = await verdicts({
        proofOfTask,
        data,
        taskDefinitionId: 1,
        performer: PERFORMER,
        taskHash: hash,
      });
      expect(verdict).toEqual(approved ? allTrue : allFalse);
      for (const language of LANGUAGES) {
        const line = `task validated: taskHash=${hash} taskDefinitionId=1 approved=${approved}`;
        await until(() => validationService[language].output().includes(line), `${language}: ${line}`);
      }
    }
  });

  it("a price outside the tolerance is rejected by every validation service, one inside approved", async () => {
    for (const [price, expected] of [
      ["3031.00", allFalse],
      ["2969.99", allFalse],
      ["3030.00", allTrue],
      ["2970.00", allTrue],
    ] as const) {
      const { text, data } = canonical(price);
      const verdict = await verdicts({
        proofOfTask: await pin(text),
        data,
        taskDefinitionId: 1,
        performer: PERFORMER,
      });
      expect(verdict, price).toEqual(expected);
    }
  });

  it("data that is not the canonical JSON is rejected by every validation service", async () => {
    // The pinned report is the one in data, only data spells it in another layout.
    const proofOfTask = await pin(canonical("3000.00").text);
    const data = hexlify(
      toUtf8Bytes('{"price": "3000.00", "round": 1, "symbol": "ETHUSDT", "timestamp": 1700000000}'),
    );
    expect(await verdicts({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER })).toEqual(
      allFalse,
    );
  });
});
