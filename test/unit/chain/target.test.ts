/**
 * The L2 RPC setting in both of its forms: one URL, or Othentic's `chainId@url` list (what
 * `L2_RPC` holds in an Othentic environment), and which URL a command then uses.
 */

import { describe, expect, it } from "vitest";
import { parseRpcUrls, pickRpcUrl } from "../../../src/chain/target.js";

describe("parseRpcUrls and pickRpcUrl", () => {
  it("takes one URL, or chainId@url entries", () => {
    expect(parseRpcUrls("http://127.0.0.1:8545", "--rpc-url")).toEqual([{ url: "http://127.0.0.1:8545" }]);
    expect(parseRpcUrls("80002@https://a.example, 84532@wss://b.example", "L2_RPC")).toEqual([
      { chainId: 80002, url: "https://a.example" },
      { chainId: 84532, url: "wss://b.example" },
    ]);
  });

  it("refuses what is no URL, naming the setting", () => {
    expect(() => parseRpcUrls("localhost:8545", "--rpc-url")).toThrow(
      /--rpc-url: "localhost:8545" is not an http\(s\) or ws\(s\) URL/,
    );
    expect(() => parseRpcUrls("0@http://a.example", "L2_RPC")).toThrow(
      /L2_RPC: "0@http:\/\/a.example" has a bad chain id/,
    );
  });

  it("uses the asked chain's URL, else one the AttestationCenter setting names, else the first", () => {
    const list = parseRpcUrls("80002@http://a.example,84532@http://b.example", "L2_RPC");
    expect(pickRpcUrl(list, 84532)?.url).toBe("http://b.example");
    expect(pickRpcUrl(list, 1)).toBeUndefined();
    expect(pickRpcUrl(list, undefined, [84532])?.url).toBe("http://b.example");
    expect(pickRpcUrl(list)?.url).toBe("http://a.example");
    // a single URL names no chain: it serves whatever is asked
    expect(pickRpcUrl(parseRpcUrls("http://c.example", "--rpc-url"), 31338)?.url).toBe("http://c.example");
  });
});
