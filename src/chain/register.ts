/**
 * Operator registration: on L1 with a BLS registration proof, then mirrored to each L2 through
 * registerToNetwork (the devnet's stand-in for the L1->L2 message bridge), followed on each L2
 * by the key's G1 twin (registerBlsKeyG1), which makes a missing signer cheap to account for.
 */

import { AvsctlError } from "../errors.js";
import { attestationCenter, avsGovernance, contractInterface, obls } from "./contracts.js";
import { optionalAddress, requireAddress, withSender } from "./sender.js";

/** A BLS key pair in the contracts' layout. */
export interface BlsKeyPair {
  secret: bigint;
  /** [x.c0, x.c1, y.c0, y.c1] */
  publicKey: readonly [bigint, bigint, bigint, bigint];
}

/** The BLS key Othentic's clients derive from an operator's ECDSA key. */
export async function blsKeyFromOperatorKey(operatorKey: string): Promise<BlsKeyPair> {
  const bls = await import("../crypto/bls.js");
  await bls.initBls();
  const secret = bls.blsSecretFromSeed(operatorKey);
  return { secret, publicKey: bls.blsPublicKey(secret) };
}

export interface RegisterOperatorL1Options {
  rpcUrl: string;
  avsGovernance: string;
  /** The operator's ECDSA key (it sends registerAsOperator and pays for it). */
  operatorKey: string;
  /** Default: derived from operatorKey as Othentic's clients do. */
  bls?: BlsKeyPair;
  /** Default: the operator. */
  rewardsReceiver?: string;
  /** Set this stake first, signed by governanceKey. */
  stake?: bigint;
  governanceKey?: string;
}

export interface RegisteredOnL1 {
  operator: string;
  chainId: number;
  blsPublicKey: readonly [bigint, bigint, bigint, bigint];
  /** The same secret times the G1 generator: registered on each L2 beside the G2 key. */
  blsPublicKeyG1: readonly [bigint, bigint];
  rewardsReceiver: string;
  /** AvsGovernance.votingPower(operator) after registration (its stake). */
  votingPower: bigint;
}

/**
 * Register an operator on L1: optionally set its stake (governance), then registerAsOperator
 * with the BLS key and its proof over (operator, AvsGovernance, chain id).
 */
export async function registerOperatorL1(opts: RegisterOperatorL1Options): Promise<RegisteredOnL1> {
  const bls = await import("../crypto/bls.js");
  await bls.initBls();
  const keys = opts.bls ?? (await blsKeyFromOperatorKey(opts.operatorKey));
  const governanceAddress = requireAddress(opts.avsGovernance, "avsGovernance");
  const iface = contractInterface("AvsGovernance");
  return withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.operatorKey }, async (operator) => {
    const rewardsReceiver = optionalAddress(opts.rewardsReceiver, "rewardsReceiver", operator.address);
    if (opts.stake !== undefined) {
      if (!opts.governanceKey) {
        throw new AvsctlError("MISSING_ARGUMENT", "governanceKey: needed to set the operator's stake");
      }
      await withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.governanceKey }, (gov) =>
        gov.run(
          {
            to: governanceAddress,
            data: iface.encodeFunctionData("setStake", [operator.address, opts.stake]),
          },
          "setStake",
        ),
      );
    }
    const proof = bls.signRegistration(keys.secret, operator.address, governanceAddress, operator.chainId);
    await operator.run(
      {
        to: governanceAddress,
        data: iface.encodeFunctionData("registerAsOperator", [keys.publicKey, rewardsReceiver, proof]),
      },
      "registerAsOperator",
    );
    const votingPower = await avsGovernance(governanceAddress, operator.provider).votingPower(
      operator.address,
    );
    return {
      operator: operator.address,
      chainId: operator.chainId,
      blsPublicKey: keys.publicKey,
      blsPublicKeyG1: bls.blsPublicKeyG1(keys.secret),
      rewardsReceiver,
      votingPower,
    };
  });
}

export interface MirrorToL2Options {
  rpcUrl: string;
  attestationCenter: string;
  /** Holder of the MESSAGE_HANDLER role on that AttestationCenter. */
  messageHandlerKey: string;
  operator: string;
  votingPower: bigint;
  blsPublicKey: readonly [bigint, bigint, bigint, bigint];
  /** Registered right after (registerBlsKeyG1) when given. */
  blsPublicKeyG1?: readonly [bigint, bigint];
  rewardsReceiver: string;
}

/** Mirror an L1 registration to one L2 (registerToNetwork); returns the operator's id there. */
export async function mirrorOperatorToL2(
  opts: MirrorToL2Options,
): Promise<{ chainId: number; operatorId: number }> {
  const iface = contractInterface("AttestationCenter");
  const ac = requireAddress(opts.attestationCenter, "attestationCenter");
  return withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.messageHandlerKey }, async (handler) => {
    await handler.run(
      {
        to: ac,
        data: iface.encodeFunctionData("registerToNetwork", [
          opts.operator,
          opts.votingPower,
          opts.blsPublicKey,
          opts.rewardsReceiver,
        ]),
      },
      "registerToNetwork",
    );
    if (opts.blsPublicKeyG1) {
      await handler.run(
        {
          to: ac,
          data: iface.encodeFunctionData("registerBlsKeyG1", [opts.operator, opts.blsPublicKeyG1]),
        },
        "registerBlsKeyG1",
      );
    }
    const id = await attestationCenter(ac, handler.provider).operatorsIdsByAddress(opts.operator);
    return { chainId: handler.chainId, operatorId: Number(id) };
  });
}

export interface RegisterOperatorOptions {
  l1: { rpcUrl: string; avsGovernance: string };
  l2: { rpcUrl: string; attestationCenter: string }[];
  operatorKey: string;
  /** Holder of MESSAGE_HANDLER on every L2 (the devnet relayer's key). */
  messageHandlerKey: string;
  bls?: BlsKeyPair;
  rewardsReceiver?: string;
  /** Set on L1 before registering (needs governanceKey); the L2 voting power is the L1 stake. */
  stake?: bigint;
  governanceKey?: string;
}

export interface RegisteredOperator extends RegisteredOnL1 {
  l2: { chainId: number; operatorId: number }[];
}

/**
 * Register an operator on L1 and mirror it to every L2 with voting power = its L1 stake, as
 * the devnet's relayer does. Not safe to run concurrently with the same governance or message
 * handler key (nonces): register operators one after the other.
 */
export async function registerOperator(opts: RegisterOperatorOptions): Promise<RegisteredOperator> {
  return mirrorToL2s(opts, await registerOnL1(opts, opts));
}

type OperatorPart = Pick<RegisterOperatorOptions, "operatorKey" | "bls" | "stake" | "rewardsReceiver">;
type CommonPart = Omit<RegisterOperatorOptions, keyof OperatorPart>;

function registerOnL1(common: CommonPart, op: OperatorPart) {
  return registerOperatorL1({
    rpcUrl: common.l1.rpcUrl,
    avsGovernance: common.l1.avsGovernance,
    operatorKey: op.operatorKey,
    bls: op.bls,
    rewardsReceiver: op.rewardsReceiver,
    stake: op.stake,
    governanceKey: common.governanceKey,
  });
}

/** Mirrors an L1 registration to every L2, one after the other, as the devnet's relayer does. */
async function mirrorToL2s(common: CommonPart, onL1: RegisteredOnL1): Promise<RegisteredOperator> {
  const l2: { chainId: number; operatorId: number }[] = [];
  for (const chain of common.l2) {
    l2.push(
      await mirrorOperatorToL2({
        rpcUrl: chain.rpcUrl,
        attestationCenter: chain.attestationCenter,
        messageHandlerKey: common.messageHandlerKey,
        operator: onL1.operator,
        votingPower: onL1.votingPower,
        blsPublicKey: onL1.blsPublicKey,
        blsPublicKeyG1: onL1.blsPublicKeyG1,
        rewardsReceiver: onL1.rewardsReceiver,
      }),
    );
  }
  return { ...onL1, l2 };
}

/**
 * Registers several operators as registerOperator does one after the other, with the same
 * transactions in the same order on every chain (so the same operator ids), but each
 * operator's mirroring to the L2s overlaps the next one's L1 registration: L1 and the L2s are
 * separate chains, each with its own nonces. Results in the order given; on a failure, what
 * was started settles, nothing more starts, and the first error is thrown.
 */
export async function registerOperators(
  common: CommonPart,
  operators: OperatorPart[],
): Promise<RegisteredOperator[]> {
  // One chain given as both L1 and an L2 shares nonces between the two sides: no overlap then.
  if (common.l2.some((c) => c.rpcUrl === common.l1.rpcUrl)) {
    const done: RegisteredOperator[] = [];
    for (const op of operators) done.push(await registerOperator({ ...common, ...op }));
    return done;
  }
  const results: Promise<RegisteredOperator>[] = [];
  let l2Done: Promise<unknown> = Promise.resolve();
  let failed = false;
  for (const op of operators) {
    if (failed) break;
    const l1 = registerOnL1(common, op);
    const previous = l2Done;
    // after this operator's L1 registration and the previous operator's mirrors (a failure there
    // stops this one too: a skipped registration would shift every later operator id)
    const registered = Promise.all([l1, previous]).then(([onL1]) => mirrorToL2s(common, onL1));
    registered.catch(() => {
      failed = true;
    });
    results.push(registered);
    l2Done = registered;
    // the next L1 registration waits for this one (its nonces, and the order of L1 events)
    await l1.catch(() => {
      failed = true;
    });
  }
  const settledResults = await Promise.allSettled(results);
  const failure = settledResults.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return settledResults.map((r) => (r as PromiseFulfilledResult<RegisteredOperator>).value);
}

export interface RegisterBlsKeyG1Options {
  l2: { rpcUrl: string; attestationCenter: string }[];
  /** Pays for the transactions: anyone may send them (the contract checks the key pair). */
  senderKey: string;
  operator: string;
  blsPublicKeyG1: readonly [bigint, bigint];
}

/**
 * Register an operator's G1 key on every L2 where it is registered without one (the relayer
 * mirrors L1 registrations, which carry only the G2 key).
 */
export async function registerBlsKeyG1(opts: RegisterBlsKeyG1Options): Promise<void> {
  const iface = contractInterface("AttestationCenter");
  for (const chain of opts.l2) {
    const ac = requireAddress(chain.attestationCenter, "attestationCenter");
    await withSender({ rpcUrl: chain.rpcUrl, privateKey: opts.senderKey }, async (sender) => {
      const center = attestationCenter(ac, sender.provider);
      const id = await center.operatorsIdsByAddress(opts.operator);
      const current = await obls(await center.obls(), sender.provider).getOperatorBlsKeyG1(id);
      if (current[0] === opts.blsPublicKeyG1[0] && current[1] === opts.blsPublicKeyG1[1]) return;
      await sender.run(
        { to: ac, data: iface.encodeFunctionData("registerBlsKeyG1", [opts.operator, opts.blsPublicKeyG1]) },
        "registerBlsKeyG1",
      );
    });
  }
}
