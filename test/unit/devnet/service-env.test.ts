import { describe, expect, it } from "vitest";
import { serviceEnv } from "../../../src/devnet/service-env.js";

const source = {
  chains: {
    l1: { chainId: 31337, rpcUrl: "http://l1:8545", avsGovernance: "0xaa" },
    l2: [
      { chainId: 31338, rpcUrl: "http://l2-1:8545", attestationCenter: "0xb1" },
      { chainId: 31339, rpcUrl: "http://l2-2:8545", attestationCenter: "0xb2" },
    ],
  },
  aggregatorUrl: "http://aggregator:8545",
  performer: { address: "0xp", privateKey: "0xk" },
  taskDefinitionId: 1,
  priceSourceUrl: "http://feed/price",
  host: "127.0.0.1",
  port: 4002,
};

describe("the environment of a project service", () => {
  it("gives an execution service the Othentic names, L2s as chainId@value lists", () => {
    expect(serviceEnv("execution", source)).toEqual({
      OTHENTIC_CLIENT_RPC_ADDRESS: "http://aggregator:8545",
      PERFORMER_ADDRESS: "0xp",
      PRIVATE_KEY_PERFORMER: "0xk",
      L1_RPC: "http://l1:8545",
      L1_CHAIN: "31337",
      AVS_GOVERNANCE_ADDRESS: "0xaa",
      L2_RPC: "31338@http://l2-1:8545,31339@http://l2-2:8545",
      L2_CHAIN: "31338,31339",
      ATTESTATION_CENTER_ADDRESS: "31338@0xb1,31339@0xb2",
      TASK_DEFINITION_ID: "1",
      PRICE_SOURCE_URL: "http://feed/price",
      HOST: "127.0.0.1",
      PORT: "4002",
      EXECUTION_PORT: "4002",
    });
  });

  it("gives a validation service only what it needs, and both kinds no port", () => {
    const ipfs = {
      apiUrl: "http://ipfs:5001",
      gatewayUrl: "http://ipfs:8080",
      pinataUrl: "http://ipfs:5002",
    };
    expect(serviceEnv("validation", { ...source, ipfs })).toEqual({
      TASK_DEFINITION_ID: "1",
      PRICE_SOURCE_URL: "http://feed/price",
      IPFS_API_URL: "http://ipfs:5001",
      PINATA_API_URL: "http://ipfs:5002",
      PINATA_GATEWAY: "http://ipfs:8080",
      HOST: "127.0.0.1",
      PORT: "4002",
      VALIDATION_PORT: "4002",
    });
    const both = serviceEnv(undefined, source);
    expect(both.OTHENTIC_CLIENT_RPC_ADDRESS).toBe("http://aggregator:8545");
    expect(both.PORT).toBeUndefined();
    expect(serviceEnv("validation", { port: 1 })).toEqual({ PORT: "1", VALIDATION_PORT: "1" });
    expect(serviceEnv("validation", { logFormat: "json" })).toEqual({ LOG_FORMAT: "json" });
  });
});
