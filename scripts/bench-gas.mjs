#!/usr/bin/env node
// Gas of AttestationCenter.submitTask (BLS aggregate of the attesters) for 3, 10 and 30
// attesters of equal voting power, every operator with its G1 key registered as the devnet does,
// on a fresh anvil. Runs against the built CLI: `npm run build && node scripts/bench-gas.mjs`.
// Prints a table and one JSON line.
//
// Columns (ECDSA performer unless named): all attesters sign, with the hints avsctl's aggregator
// appends (witnesses for hashing to the curve; the voter state and the non-signers' keys behind
// OBLS's commitments) and without any (a plain Othentic encoding), then with fees for every role;
// a 2/3 quorum signing with hints (the state way), then without (the G2 way); a BLS performer with
// all signing and with 2/3; a rejection by a 1/3 quorum. "per non-signer" is (2/3 sign - all sign) / non-signers; "per extra" is
// what each non-signer after the first adds, (2/3 sign - all but one sign) / (non-signers - 1).
// Each figure is the mean of TASKS submissions: hashing to the curve needs 1 to 3 square roots
// depending on the message.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, "dist", p)).href;
const SIZES = [3, 10, 30];
const TASKS = 12;

async function main() {
  if (!existsSync(join(root, "dist", "chain", "deploy.js")) || !existsSync(join(root, "artifacts"))) {
    throw new Error("build first: npm run build");
  }
  const { Wallet, JsonRpcProvider, Network } = await import("ethers");
  const { startAnvil } = await import(dist("chain/anvil.js"));
  const { ANVIL_DEV_PRIVATE_KEYS } = await import(dist("chain/dev-keys.js"));
  const { deployL2 } = await import(dist("chain/deploy.js"));
  const { attestationCenter, SIGNATURES } = await import(dist("chain/contracts.js"));
  const bls = await import(dist("crypto/bls.js"));
  const { taskHash, voteHash } = await import(dist("crypto/task-hash.js"));
  const { signTaskEcdsa } = await import(dist("crypto/ecdsa.js"));
  const { encodeSubmitTask } = await import(dist("chain/abi-fast.js"));
  await bls.initBls();

  const chain = await startAnvil({ chainId: 31337 });
  const provider = new JsonRpcProvider(chain.rpcUrl, Network.from(chain.chainId), {
    staticNetwork: Network.from(chain.chainId),
    cacheTimeout: -1,
    pollingInterval: 50,
  });
  const results = [];
  try {
    const deployerKey = ANVIL_DEV_PRIVATE_KEYS[0];
    const deployer = new Wallet(deployerKey, provider);
    const aggregator = new Wallet(ANVIL_DEV_PRIVATE_KEYS[1], provider);
    const performerKey = ANVIL_DEV_PRIVATE_KEYS[2];
    const performer = new Wallet(performerKey).address;
    let nonce = await provider.getTransactionCount(deployer.address, "pending");

    for (const size of SIZES) {
      const l2 = await deployL2({ signer: deployer });
      nonce = await provider.getTransactionCount(deployer.address, "pending");
      const ac = attestationCenter(l2.attestationCenter, deployer);
      const pending = [];
      const send = async (promise) => {
        const tx = await promise;
        pending.push(tx);
        return tx;
      };
      // the devnet registers its aggregator and performer as active operators that do not vote,
      // and every operator's G1 key beside its G2 key
      const register = async (address, power, secret) => {
        await send(
          ac.registerToNetwork(address, power, bls.blsPublicKey(secret), address, { nonce: nonce++ }),
        );
        await send(ac.registerBlsKeyG1(address, bls.blsPublicKeyG1(secret), { nonce: nonce++ }));
      };
      await register(aggregator.address, 0n, bls.randomBlsSecret());
      const performerSecret = bls.randomBlsSecret();
      await register(performer, 0n, performerSecret);
      const attesters = [];
      for (let i = 0; i < size; i++) {
        const secret = bls.randomBlsSecret();
        const address = Wallet.createRandom().address;
        attesters.push({ secret, address, publicKey: bls.blsPublicKey(secret) });
        await register(address, 10n ** 18n, secret);
      }
      const params = (fee) => ({
        blockExpiry: (1n << 256n) - 1n,
        baseRewardFeeForAttesters: fee,
        baseRewardFeeForPerformer: fee,
        baseRewardFeeForAggregator: fee,
        disputePeriodBlocks: 10n,
        minimumVotingPower: 0n,
        restrictedAttesterIds: [],
        maximumNumberOfAttesters: 0n,
      });
      await send(ac[SIGNATURES.createNewTaskDefinitionGen2]("no-fees", params(0n), { nonce: nonce++ }));
      await send(ac[SIGNATURES.createNewTaskDefinitionGen2]("fees", params(10n ** 15n), { nonce: nonce++ }));
      for (const tx of pending) await tx.wait();

      // attester ids: aggregator 1, performer 2, attesters 3..size+2
      const ids = attesters.map((_, i) => BigInt(i + 3));
      const quorum = Math.ceil((size * 2) / 3);
      const row = { attesters: size };
      const cases = [
        ["allSign", 1, size, "ecdsa", true],
        ["allSignNoHint", 1, size, "ecdsa", false],
        ["allSignWithFees", 2, size, "ecdsa", true],
        ["twoThirdsSign", 1, quorum, "ecdsa", true],
        ["twoThirdsSignNoHint", 1, quorum, "ecdsa", false],
        ["oneMissing", 1, size - 1, "ecdsa", true],
        ["rejectThirdSign", 1, Math.ceil(size / 3), "ecdsa", true, false],
        ["blsPerformerAllSign", 1, size, "bls", true],
        ["blsPerformerTwoThirds", 1, quorum, "bls", true],
      ];
      for (const [label, definitionId, signers, performerScheme, hint, isApproved = true] of cases) {
        let total = 0;
        for (let k = 0; k < TASKS; k++) {
          const task = {
            proofOfTask: `QmBenchmarkProofOfTask${label}${size}n${k}xxxxxxxxxxxxxxxxxxxxxx`,
            data: `0x${"ab".repeat(32)}`,
            taskPerformer: performer,
            taskDefinitionId: definitionId,
          };
          const tHash = taskHash({ ...task, performer });
          const vHash = voteHash({
            ...task,
            performer,
            attestationCenter: l2.attestationCenter,
            chainId: chain.chainId,
            isApproved,
          });
          const chosen = attesters.slice(0, signers);
          const signature = bls.aggregateSignatures(chosen.map((a) => bls.signVote(a.secret, vHash)));
          let data = encodeSubmitTask(
            { ...task, performer, taskHash: tHash },
            {
              isApproved,
              tpSignature:
                performerScheme === "bls"
                  ? bls.signTaskBls(performerSecret, tHash)
                  : signTaskEcdsa(performerKey, tHash),
              taSignature: signature,
              attestersIds: ids.slice(0, signers),
            },
          );
          // as avsctl's aggregator: the state section when cheaper, else the G2 sum when some
          // voter did not sign and it is not one key, and the witnesses for hashing the vote
          // (and a BLS performer's task) to the curve
          if (hint) {
            const viaState = bls.stateHintCheaper(signers, size - signers);
            data = bls.withSubmitHints(data, {
              state: viaState
                ? bls.stateHint(
                    attesters.map((a, i) => ({ id: ids[i], votingPower: 10n ** 18n, key: a.publicKey })),
                    ids.slice(0, signers),
                    performerScheme === "bls"
                      ? { id: 2n, votingPower: 0n, key: bls.blsPublicKey(performerSecret) }
                      : null,
                  )
                : null,
              apkG2:
                !viaState && signers < size && signers > 1
                  ? bls.aggregatePublicKeys(chosen.map((a) => a.publicKey))
                  : null,
              votePoint: bls.hashToPointWitness(bls.DOMAIN_TASKS, vHash),
              taskPoint: performerScheme === "bls" ? bls.hashToPointWitness(bls.DOMAIN_TASKS, tHash) : null,
            });
          }
          const tx = await aggregator.sendTransaction({
            to: l2.attestationCenter,
            data,
            gasLimit: 3_000_000n,
          });
          const receipt = await tx.wait();
          if (receipt.status !== 1) throw new Error(`submitTask reverted (${label}, ${size})`);
          total += Number(receipt.gasUsed);
        }
        row[label] = Math.round(total / TASKS);
      }
      results.push(row);
    }
  } finally {
    provider.destroy();
    await chain.stop();
  }

  const pad = (v, n) => String(v).padStart(n);
  for (const r of results) {
    const missing = r.attesters - Math.ceil((r.attesters * 2) / 3);
    // the slope beyond the first non-signer (which also pays for the G1 way's two ecMul)
    r.perExtraNonSigner = missing > 1 ? Math.round((r.twoThirdsSign - r.oneMissing) / (missing - 1)) : null;
    r.perNonSigner = Math.round(
      (r.twoThirdsSign - r.allSign) / (r.attesters - Math.ceil((r.attesters * 2) / 3)),
    );
  }
  console.log(`submitTask gas (BLS aggregate, equal voting power; mean of ${TASKS} tasks)`);
  const columns = [
    ["attesters", "attesters"],
    ["all sign", "allSign"],
    ["all no hint", "allSignNoHint"],
    ["all+fees", "allSignWithFees"],
    ["2/3 sign", "twoThirdsSign"],
    ["2/3 no hint", "twoThirdsSignNoHint"],
    ["1/3 reject", "rejectThirdSign"],
    ["per non-signer", "perNonSigner"],
    ["per extra", "perExtraNonSigner"],
    ["BLS perf all", "blsPerformerAllSign"],
    ["BLS perf 2/3", "blsPerformerTwoThirds"],
  ];
  console.log(columns.map(([h]) => pad(h, Math.max(9, h.length))).join(" "));
  for (const r of results) {
    console.log(columns.map(([h, k]) => pad(r[k], Math.max(9, h.length))).join(" "));
  }
  const at3 = results.find((r) => r.attesters === 3);
  const checks = [
    ["2/3 sign at 3 attesters <= 200000", at3 && at3.twoThirdsSign <= 200_000],
    ["<= 10000 per non-signer", results.every((r) => r.perNonSigner <= 10_000)],
    [
      "<= 10000 per extra non-signer",
      results.every((r) => r.perExtraNonSigner === null || r.perExtraNonSigner <= 10_000),
    ],
    ["BLS performer <= 280000 at 3 attesters", at3 && at3.blsPerformerTwoThirds <= 280_000],
  ];
  for (const [what, met] of checks) console.log(`target: ${what} -> ${met ? "met" : "NOT met"}`);
  console.log(JSON.stringify({ bench: "submitTask-gas", results }));
}

main().catch((error) => {
  console.error(`bench-gas: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
