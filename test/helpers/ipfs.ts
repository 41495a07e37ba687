/** What the price-oracle templates put in IPFS, for tests that send their tasks by hand. */

/** The templates' proof: an IPFS CID, CIDv0 or CIDv1 in base32. */
export const CID = /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,})$/;

/**
 * Pins a JSON document to a devnet's IPFS node through its Pinata API, as the templates'
 * execution services do, and answers its CID (the proof the templates send).
 */
export async function pinJson(pinataUrl: string, json: string): Promise<string> {
  const response = await fetch(`${pinataUrl}/pinning/pinJSONToIPFS`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pinataContent: JSON.parse(json), pinataMetadata: { name: "e2e-report" } }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200)
    throw new Error(`pinJSONToIPFS answered ${response.status}: ${await response.text()}`);
  const { IpfsHash } = (await response.json()) as { IpfsHash: string };
  if (!CID.test(IpfsHash)) throw new Error(`pinJSONToIPFS answered a non-CID: ${IpfsHash}`);
  return IpfsHash;
}
