/**
 * The L2 RPC setting in both of its forms: one URL, or Othentic's `chainId@url` list (what
 * `L2_RPC` holds in an Othentic environment), and which URL a command then uses.
 */

import { describe, expect, it } from "vitest";
import { parseAttestationCenters, parseRpcList, pickRpcUrl } from "../../../src/chain/endpoint-lists.js";

describe("parseRpcList and pickRpcUrl", () => {
  it("takes one URL, or chainId@url entries", () => {
    expect(parseRpcList("http://127.0.0.1:8545", "--rpc-url")).toEqual([{ url: "http://127.0.0.1:8545" }]);
    expect(parseRpcList("80002@https://a.example, 84532@wss://b.example", "L2_RPC")).toEqual([
      { chainId: 80002, url: "https://a.example" },
      { chainId: 84532, url: "wss://b.example" },
    ]);
  });

  it("refuses what is no URL, naming the setting", () => {
    expect(() => parseRpcList("localhost:8545", "--rpc-url")).toThrow(
      /--rpc-url: "localhost:8545" is not an http\(s\) or ws\(s\) URL/,
    );
    expect(() => parseRpcList("0@http://a.example", "L2_RPC")).toThrow(
      /L2_RPC: "0@http:\/\/a.example" has a bad chain id/,
    );
  });

  it("uses the asked chain's URL, else one the AttestationCenter setting names, else the first", () => {
    const list = parseRpcList("80002@http://a.example,84532@http://b.example", "L2_RPC");
    expect(pickRpcUrl(list, 84532)?.url).toBe("http://b.example");
    expect(pickRpcUrl(list, 1)).toBeUndefined();
    expect(pickRpcUrl(list, undefined, [84532])?.url).toBe("http://b.example");
    expect(pickRpcUrl(list)?.url).toBe("http://a.example");
    // a single URL names no chain: it serves whatever is asked
    expect(pickRpcUrl(parseRpcList("http://c.example", "--rpc-url"), 31338)?.url).toBe("http://c.example");
  });
});

describe("parseAttestationCenters and chain names", () => {
  const A = "0x1111111111111111111111111111111111111111";
  it("reads a network name before the @ in either setting, as the nodes always did", () => {
    expect(parseRpcList("base-sepolia@https://b.example,amoy@http://a.example", "L2_RPC")).toEqual([
      { chainId: 84532, url: "https://b.example" },
      { chainId: 80002, url: "http://a.example" },
    ]);
    expect(parseAttestationCenters(`amoy@${A}`, "--attestation-center")).toEqual([
      { chainId: 80002, address: A },
    ]);
  });

  it("takes a URL with user info as a URL, and gives a bare address the default chain", () => {
    expect(parseRpcList("http://user@node.example:8545", "L2_RPC")).toEqual([
      { url: "http://user@node.example:8545" },
    ]);
    expect(parseAttestationCenters(A, "ATTESTATION_CENTER_ADDRESS", 31338)).toEqual([
      { chainId: 31338, address: A },
    ]);
    expect(parseAttestationCenters(A, "ATTESTATION_CENTER_ADDRESS")).toEqual([{ address: A }]);
  });

  it("refuses an unknown network, an empty setting and a bad address, naming the setting", () => {
    expect(() => parseRpcList("nowhere@http://a.example", "L2_RPC")).toThrow(
      /L2_RPC: unknown chain "nowhere"/,
    );
    expect(() => parseAttestationCenters(" , ", "ATTESTATION_CENTER_ADDRESS")).toThrow(
      /ATTESTATION_CENTER_ADDRESS: empty/,
    );
    expect(() => parseAttestationCenters("80002@0x12", "--attestation-center")).toThrow(
      expect.objectContaining({ code: "INVALID_ADDRESS" }),
    );
  });
});
