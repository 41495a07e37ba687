import { JsonRpcProvider } from "ethers";

export type SendTaskParams = [
  proofOfTask: string,
  data: string,
  taskDefinitionId: number,
  performerAddress: string,
  signature: string,
  signatureType?: "ecdsa" | "bls",
  targetChainId?: number,
];

/**
 * Calls sendTask on the aggregator's JSON-RPC endpoint. ethers' JsonRpcProvider asks for
 * eth_chainId first and batches requests, exactly as Othentic's own services do; a timeout
 * stops it from retrying forever against an endpoint that cannot answer.
 */
export async function sendTask(rpcUrl: string, params: SendTaskParams, timeoutMs: number): Promise<unknown> {
  const provider = new JsonRpcProvider(rpcUrl);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`sendTask to ${rpcUrl} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return await Promise.race([provider.send("sendTask", params), timeout]);
  } catch (error) {
    const reason = (error as { error?: { message?: string } }).error?.message ?? (error as Error).message;
    throw new Error(`sendTask failed: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
    provider.destroy();
  }
}
