/**
 * The devnet's task engine end to end, in both runtimes: a workflow stored and triggered over
 * the engine's HTTP API runs, its record goes to the devnet's IPFS node, the execution is sent
 * as an AVS task by the operator elected for it (leader.ts, on the L2's head), the attesters re-run it through the engine's /task/validate and the verdict
 * lands on the L2. The verdict is read from the chain, not from the engine. A record whose
 * inputs were altered, or a wrong digest, is rejected on-chain. The process devnet has two L2s:
 * a workflow naming the second is attested there, and its block trigger follows that L2's blocks.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendTaskRpc } from "../../../src/client/send.js";
import { verdictTopics, waitForVerdicts } from "../../../src/client/verdicts.js";
import { toDataHex } from "../../../src/crypto/bytes.js";
import { PORTS } from "../../../src/devnet/launcher.js";
import { startPriceFeed } from "../../../src/devnet/samples/sample-services.js";
import { electPerformer, readActiveOperators } from "../../../src/triggers/leader.js";
import { runCli } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";
import { call, signedBody, until } from "../../integration/task-engine/helpers.js";

/**
 * The 5-node workflow: a REST read and a contract read on the L2, joined, branched. The REST
 * read is the price feed (process devnet), or the engine's own /health in its container (Docker:
 * the test's feed on this machine's loopback is out of a container's reach).
 */
function workflow(restUrl: string, attestationCenter: string): Record<string, unknown> {
  return {
    name: "price-and-defs",
    trigger: { id: "t", name: "trig", type: "manual", config: { data: { threshold: 1000 } } },
    nodes: [
      {
        id: "p",
        name: "price",
        type: "restApi",
        config: { url: restUrl, method: "GET" },
      },
      {
        id: "c",
        name: "center",
        type: "contractRead",
        config: {
          contractAddress: attestationCenter,
          contractAbi: ["function numOfTaskDefinitions() view returns (uint16)"],
          methodCalls: [{ methodName: "numOfTaskDefinitions", methodParams: [] }],
        },
      },
      {
        id: "k",
        name: "calc",
        type: "customCode",
        config: {
          lang: "javascript",
          source:
            "const p = Number(price.data.price ?? 3000); return { price: p, defs: Number(center.data[0].value), ok: p > trig.data.threshold };",
        },
      },
      {
        id: "b",
        name: "check",
        type: "branch",
        config: {
          conditions: [
            { id: "hi", type: "if", expression: "calc.data.ok" },
            { id: "lo", type: "else" },
          ],
        },
      },
      {
        id: "r",
        name: "report",
        type: "customCode",
        config: {
          lang: "javascript",
          source: 'return "price " + calc.data.price + " over " + trig.data.threshold;',
        },
      },
    ],
    edges: [
      { id: "e1", source: "t", target: "p" },
      { id: "e2", source: "t", target: "c" },
      { id: "e3", source: "p", target: "k" },
      { id: "e4", source: "c", target: "k" },
      { id: "e5", source: "k", target: "b" },
      { id: "e6", source: "b.hi", target: "r" },
    ],
  };
}

function engineSuite(runtime: "process" | "docker"): void {
  const dir = mkdtempSync(path.join(tmpdir(), `avsctl-engine-${runtime}-`));
  writeFileSync(
    path.join(dir, "avsctl.config.json"),
    JSON.stringify({ name: `e2e-engine-${runtime}-${process.pid}` }),
  );
  const cli = (args: string[], timeoutMs = 120_000) => runCli([...args, "--json"], { cwd: dir, timeoutMs });
  let state: any;
  let feed: { url: string; stop(): Promise<void> } | undefined;
  let provider: JsonRpcProvider;
  let token: string;
  const owner = Wallet.createRandom();

  /** The verdict of `taskHash`, followed on the L2 from `fromBlock`. */
  async function chainVerdict(taskHash: string, fromBlock: number) {
    const found = await waitForVerdicts(
      { provider, attestationCenter: state.l2[0].attestationCenter, chainId: state.l2[0].chainId, fromBlock },
      [taskHash],
      { deadline: Date.now() + 90_000 },
    );
    return found.get(taskHash.toLowerCase());
  }

  beforeAll(async () => {
    // not a workflow project: the engine runs because it is asked for
    // the process devnet has a second L2 (Docker's keeps CI time low with one)
    const l2s = runtime === "process" ? ["--l2-chains", "2"] : [];
    const up = await cli(["devnet", "up", "--runtime", runtime, "--engine", ...l2s], 300_000);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    state = up.json();
    provider = new JsonRpcProvider(state.l2[0].rpcUrl, undefined, { staticNetwork: true });
    if (runtime === "process") feed = await startPriceFeed({ price: "3000.00" });
    const exchange = await call(
      state.engine.url,
      "POST",
      "/auth:exchange",
      undefined,
      await signedBody(owner, { chainId: state.engine.chainId }),
    );
    expect(exchange.status, exchange.text).toBe(200);
    token = exchange.body.token;
  }, 360_000);

  afterAll(async () => {
    provider?.destroy();
    await feed?.stop();
    await runCli(["devnet", "down", "--volumes"], { cwd: dir, timeoutMs: 120_000 });
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  describe(`the task engine in a ${runtime} devnet`, () => {
    let execution: any;

    it("the state names the engine, its chain and its own task definition; status checks it", async () => {
      expect(state.engine).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        chainId: state.l2[0].chainId,
        taskDefinitionId: 2,
      });
      expect(state.taskDefinitions).toEqual([{ taskDefinitionId: 1, name: "default" }]);
      const status = await cli(["devnet", "status"]);
      expect(status.code, status.stdout).toBe(0);
      expect(status.json().components).toContainEqual(
        expect.objectContaining({ name: "task-engine", healthy: true }),
      );
      const env = await cli(["devnet", "env", "--format", "json"]);
      expect(env.json().AVSCTL_ENGINE_URL).toBe(state.engine.url);
    });

    it("a triggered 5-node workflow succeeds and is attested: approved on the L2", {
      timeout: 180_000,
    }, async () => {
      // The feed's URL is a secret, as in the workflow template: attesters replay the run with
      // "***" for it, which is no URL (such runs were rejected on-chain).
      const secret = await call(state.engine.url, "POST", "/secrets", token, {
        name: "FEED_URL",
        secret: feed ? `${feed.url}/price` : `http://127.0.0.1:${PORTS.engine}/health`,
      });
      expect(secret.status, secret.text).toBe(201);
      const created = await call(
        state.engine.url,
        "POST",
        "/workflows",
        token,
        workflow("{{ apContext.configVars.FEED_URL }}?symbol=ETHUSDT", state.l2[0].attestationCenter),
      );
      expect(created.status, created.text).toBe(201);
      const fromBlock = await provider.getBlockNumber();
      const triggered = await call(state.engine.url, "POST", `/workflows/${created.body.id}:trigger`, token, {
        isBlocking: true,
      });
      expect(triggered.status, triggered.text).toBe(200);
      expect(triggered.body.status, triggered.text).toBe("success");
      expect(triggered.body.steps.map((s: any) => [s.name, s.success])).toEqual([
        ["trig", true],
        ["price", true],
        ["center", true],
        ["calc", true],
        ["check", true],
        ["report", true],
      ]);
      const route = `/workflows/${created.body.id}/executions/${triggered.body.executionId}`;
      execution = await until(
        async () => {
          const r = await call(state.engine.url, "GET", route, token);
          return r.body.txHash ? r.body : undefined;
        },
        "the execution's attestation",
        120_000,
      );
      expect(execution).toMatchObject({
        status: "success",
        verdict: "approved",
        chainId: state.l2[0].chainId,
      });
      expect(execution.taskNumber).toEqual(expect.any(Number));
      // a manual trigger has no block: the round robin turns on the L2's head when it was elected
      expect(execution.electedAt).toBeGreaterThan(fromBlock - 1);
      const operators = await readActiveOperators(state.l2[0].rpcUrl, state.l2[0].attestationCenter);
      expect(execution.performer).toBe(electPerformer(operators, execution.electedAt)!.operator);
      const shown = await runCli(["workflow", "execution", created.body.id, triggered.body.executionId], {
        cwd: dir,
        env: { AVSCTL_PRIVATE_KEY: owner.privateKey, AVSCTL_KEYSTORE_PASSWORD: undefined },
      });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain(
        `attested on chain ${state.l2[0].chainId} by ${execution.performer} (elected at ${execution.electedAt}): approved as task ${execution.taskNumber} (tx ${execution.txHash})`,
      );

      // the chain's own word: the receipt of txHash carries TaskSubmitted for this task
      const receipt = await provider.getTransactionReceipt(execution.txHash);
      expect(receipt?.status).toBe(1);
      expect(receipt!.blockNumber).toBeGreaterThan(fromBlock);
      const topics = await verdictTopics();
      const verdicts = receipt!.logs
        .map((log) => topics.parse(log as never, state.l2[0].chainId))
        .filter((v) => v !== undefined);
      const mine = verdicts.find((v) => v.taskNumber === execution.taskNumber);
      expect(mine).toMatchObject({
        status: "approved",
        taskDefinitionId: 2,
        proofOfTask: execution.digest,
        performer: execution.performer,
      });
    });

    it("a record whose recorded input was altered, or a wrong digest, is rejected on-chain", {
      timeout: 240_000,
    }, async () => {
      const verdicts = await verdictTopics();
      const receipt = await provider.getTransactionReceipt(execution.txHash);
      const approved = receipt!.logs
        .map((log) => verdicts.parse(log as never, state.l2[0].chainId))
        .find((v) => v?.taskNumber === execution.taskNumber)!;
      const cid = Buffer.from(approved.data.slice(2), "hex").toString("utf8");
      const doc: any = await (await fetch(`${state.ipfs.gatewayUrl}${cid}`)).json();
      expect(doc).toMatchObject({ performer: execution.performer, chainId: state.l2[0].chainId });
      const price = doc.inputs.find((i: any) => i.kind === "http");
      expect(price.value.status).toBe(200);
      if (feed) expect(JSON.parse(price.value.text).price).toBe("3000.00");

      // the same digest over a record that says the feed answered another price
      const tampered = structuredClone(doc);
      const entry = tampered.inputs.find((i: any) => i.kind === "http");
      entry.value.text = JSON.stringify({ price: "10.00" });
      const pinned = await fetch(`${state.ipfs.pinataUrl}/pinning/pinJSONToIPFS`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pinataContent: tampered, pinataOptions: { cidVersion: 1 } }),
      });
      const tamperedCid = ((await pinned.json()) as { IpfsHash: string }).IpfsHash;
      expect(tamperedCid).not.toBe(cid);

      const fromBlock = await provider.getBlockNumber();
      const target = {
        aggregatorUrl: state.aggregator.rpcUrl,
        performerKey: state.performer.privateKey,
        sigType: "ecdsa" as const,
      };
      const altered = await sendTaskRpc(
        { proofOfTask: execution.digest, data: toDataHex(tamperedCid), taskDefinitionId: 2 },
        target,
      );
      const wrongDigest = await sendTaskRpc(
        { proofOfTask: `0x${"11".repeat(32)}`, data: approved.data, taskDefinitionId: 2 },
        target,
      );
      expect((await chainVerdict(altered.taskHash, fromBlock))?.status).toBe("rejected");
      expect((await chainVerdict(wrongDigest.taskHash, fromBlock))?.status).toBe("rejected");

      // the attesters asked the engine, which re-ran each record: no abstention made these verdicts
      const logs = await cli(["devnet", "logs", "task-engine"]);
      expect(logs.code, logs.stderr).toBe(0);
      const answers = (logs.json().lines as string[])
        .filter((line) => line.includes('"POST /task/validate"'))
        .map((line) => JSON.parse(line.slice(line.indexOf("{"))));
      expect(answers.filter((a) => a.cid === cid && a.valid === true).length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.cid === tamperedCid && a.valid === false).length).toBeGreaterThan(0);
      expect(answers.every((a) => a.status === 200)).toBe(true);
    });

    it("executions awaiting their verdicts when the engine restarts are attested after it", {
      timeout: 240_000,
    }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await call(
          state.engine.url,
          "POST",
          `/workflows/${execution.workflowId}:trigger`,
          token,
          {},
        );
        expect(r.status, r.text).toBe(202);
        ids.push(r.body.executionId);
      }
      const restart = await cli(["devnet", "restart", "task-engine"]);
      expect(restart.code, restart.stdout + restart.stderr).toBe(0);
      const attested = await until(
        async () => {
          const r = await call(
            state.engine.url,
            "GET",
            `/workflows/${execution.workflowId}/executions?limit=50`,
            token,
          );
          const mine = (r.body.items ?? []).filter((e: any) => ids.includes(e.id));
          return mine.length === ids.length && mine.every((e: any) => e.verdict !== null) ? mine : undefined;
        },
        "every execution's verdict after the restart",
        180_000,
      );
      // each one once, each one approved on the L2 (its receipt says so)
      const topics = await verdictTopics();
      for (const e of attested) {
        expect(e).toMatchObject({ status: "success", verdict: "approved" });
        const receipt = await provider.getTransactionReceipt(e.txHash);
        const onChain = receipt!.logs
          .map((log) => topics.parse(log as never, state.l2[0].chainId))
          .find((v) => v?.taskNumber === e.taskNumber);
        expect(onChain).toMatchObject({ status: "approved", proofOfTask: e.digest });
      }
    });

    // Only the process devnet has a second L2 (a Docker one would add minutes to CI for the same code path).
    if (runtime === "process")
      it("a workflow naming the second L2 is performed by its elected operator and attested there; its block trigger follows that L2", {
        timeout: 240_000,
      }, async () => {
        const second = state.l2[1];
        expect(second).toBeDefined();
        const other = new JsonRpcProvider(second.rpcUrl, undefined, { staticNetwork: true });
        try {
          const flow = workflow(`${feed!.url}/price?symbol=ETHUSDT`, second.attestationCenter);
          const onSecond = (trigger: Record<string, unknown>) => ({
            ...flow,
            name: `on-${second.chainId}`,
            trigger: { ...(flow.trigger as object), ...trigger },
          });
          const manual = onSecond({
            config: { data: { threshold: 1000 }, chainId: second.chainId },
          });
          const created = await call(state.engine.url, "POST", "/workflows", token, manual);
          expect(created.status, created.text).toBe(201);
          const unknown = await call(state.engine.url, "POST", "/workflows", token, {
            ...manual,
            trigger: { ...manual.trigger, config: { chainId: 999 } },
          });
          expect(unknown.status).toBe(400);
          expect(unknown.body.error.details.errors[0].path).toBe("trigger.config.chainId");

          const triggered = await call(
            state.engine.url,
            "POST",
            `/workflows/${created.body.id}:trigger`,
            token,
            { isBlocking: true },
          );
          expect(triggered.body.status, triggered.text).toBe("success");
          const route = `/workflows/${created.body.id}/executions/${triggered.body.executionId}`;
          const attested = await until(
            async () => {
              const r = await call(state.engine.url, "GET", route, token);
              return r.body.txHash ? r.body : undefined;
            },
            "the attestation on the second L2",
            120_000,
          );
          expect(attested).toMatchObject({ verdict: "approved", chainId: second.chainId });
          const operators = await readActiveOperators(second.rpcUrl, second.attestationCenter);
          expect(attested.performer).toBe(electPerformer(operators, attested.electedAt)!.operator);
          // the second L2 has the verdict's transaction, the first does not
          const receipt = await other.getTransactionReceipt(attested.txHash);
          expect(receipt?.status).toBe(1);
          expect(await provider.getTransactionReceipt(attested.txHash)).toBeNull();
          const topics = await verdictTopics();
          const verdict = receipt!.logs
            .map((log) => topics.parse(log as never, second.chainId))
            .find((v) => v?.taskNumber === attested.taskNumber);
          expect(verdict).toMatchObject({
            status: "approved",
            proofOfTask: attested.digest,
            performer: attested.performer,
          });

          // a block trigger on the second L2: its blocks, far past the first L2's head, fire it
          await other.send("anvil_mine", ["0x64"]);
          const firstHead = await provider.getBlockNumber();
          const secondHead = await other.getBlockNumber();
          expect(secondHead).toBeGreaterThan(firstHead + 50);
          const blocks = await call(
            state.engine.url,
            "POST",
            "/workflows",
            token,
            onSecond({ type: "block", config: { interval: 1, chainId: second.chainId } }),
          );
          expect(blocks.status, blocks.text).toBe(201);
          const fired = await until(
            async () => {
              const r = await call(state.engine.url, "GET", `/workflows/${blocks.body.id}/executions`, token);
              const items = (r.body.items ?? []) as any[];
              if (items.some((e) => e.verdict !== null)) return items;
              await other.send("anvil_mine", ["0x1"]);
              return undefined;
            },
            "a block firing on the second L2, attested",
            120_000,
          );
          await call(state.engine.url, "POST", `/workflows/${blocks.body.id}:cancel`, token);
          for (const e of fired) expect(e.triggerReason.blockNumber).toBeGreaterThanOrEqual(secondHead);
          const done = fired.find((e) => e.verdict !== null)!;
          expect(done).toMatchObject({ verdict: "approved", chainId: second.chainId });
          expect((await other.getTransactionReceipt(done.txHash))?.status).toBe(1);
        } finally {
          other.destroy();
        }
      });
  });
}

describe("process runtime", () => engineSuite("process"));
describeDocker("Docker runtime", () => engineSuite("docker"));
