#!/usr/bin/env node
// Gas of AttestationCenter.submitTask (ECDSA performer, BLS aggregate of the attesters) for 3,
// 10 and 30 attesters of equal voting power, on a fresh anvil. Runs against the built CLI:
// `npm run build && node scripts/bench-gas.mjs`. Prints a table and one JSON line.
//
// Columns: all attesters sign (no fees, then with fees for every role), and a 2/3 quorum
// signing (exercises the "voters' key sum minus non-signers" path). Each figure is the mean
// of TASKS submissions: hashing to the curve needs 1 to 3 square roots depending on the message.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, "dist", p)).href;
const SIZES = [3, 10, 30];
const TASKS = 4;

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
      const noKey = bls.blsPublicKey(bls.randomBlsSecret());
      // the devnet registers its aggregator and performer as active operators that do not vote
      await send(ac.registerToNetwork(aggregator.address, 0n, noKey, aggregator.address, { nonce: nonce++ }));
      await send(ac.registerToNetwork(performer, 0n, noKey, performer, { nonce: nonce++ }));
      const attesters = [];
      for (let i = 0; i < size; i++) {
        const secret = bls.randomBlsSecret();
        const address = Wallet.createRandom().address;
        attesters.push({ secret, address });
        await send(
          ac.registerToNetwork(address, 10n ** 18n, bls.blsPublicKey(secret), address, { nonce: nonce++ }),
        );
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
        ["allSign", 1, size],
        ["allSignWithFees", 2, size],
        ["twoThirdsSign", 1, quorum],
      ];
      for (const [label, definitionId, signers] of cases) {
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
            isApproved: true,
          });
          const chosen = attesters.slice(0, signers);
          const signature = bls.aggregateSignatures(chosen.map((a) => bls.signVote(a.secret, vHash)));
          const tx = await attestationCenter(l2.attestationCenter, aggregator)[SIGNATURES.submitTaskEcdsa](
            task,
            {
              isApproved: true,
              tpSignature: signTaskEcdsa(performerKey, tHash),
              taSignature: signature,
              attestersIds: ids.slice(0, signers),
            },
          );
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
  console.log(`submitTask gas (ECDSA performer, BLS aggregate, equal voting power; mean of ${TASKS} tasks)`);
  console.log(`${pad("attesters", 9)} ${pad("all sign", 10)} ${pad("all+fees", 10)} ${pad("2/3 sign", 10)}`);
  for (const r of results) {
    console.log(
      `${pad(r.attesters, 9)} ${pad(r.allSign, 10)} ${pad(r.allSignWithFees, 10)} ${pad(r.twoThirdsSign, 10)}`,
    );
  }
  const target = results.find((r) => r.attesters === 3);
  console.log(
    `target: <= 250000 gas at 3 attesters -> ${target && target.allSignWithFees <= 250_000 ? "met" : "NOT met"}`,
  );
  console.log(JSON.stringify({ bench: "submitTask-gas", results }));
}

main().catch((error) => {
  console.error(`bench-gas: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
