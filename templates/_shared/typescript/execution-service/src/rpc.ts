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
 * What the aggregator answers for a task it already has (in progress or decided): JSON-RPC
 * error -32022, reason "TASK_KNOWN", with the task's state in `error.data`.
 */
export const TASK_KNOWN_CODE = -32022;

export interface SendTaskOutcome {
  /**
   * True when the aggregator already had this task (TASK_KNOWN). The network has it, so the
   * task is sent: nothing failed, and sending it again would change nothing.
   */
  known: boolean;
  /** sendTask's result, or the known task's state (`error.data`: status, taskNumber, ...). */
  result: unknown;
}

/**
 * sendTask got no JSON-RPC answer: the connection was refused or cut, the call timed out, or what
 * came back was no JSON-RPC. Unless it was refused, the aggregator may have taken the task; the
 * same signed params may be sent again safely, since it takes a task once (TASK_KNOWN after).
 */
export class SendTaskUnanswered extends Error {}

interface RpcErrorObject {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

/**
 * Calls sendTask on the aggregator's JSON-RPC endpoint. ethers' JsonRpcProvider asks for
 * eth_chainId first and batches requests, exactly as Othentic's own services do; a timeout
 * stops it from retrying forever against an endpoint that cannot answer.
 */
export async function sendTask(
  rpcUrl: string,
  params: SendTaskParams,
  timeoutMs: number,
): Promise<SendTaskOutcome> {
  const provider = new JsonRpcProvider(rpcUrl);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`sendTask to ${rpcUrl} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return { known: false, result: await Promise.race([provider.send("sendTask", params), timeout]) };
  } catch (error) {
    // ethers keeps the JSON-RPC error object of the answer as `error.error`.
    const rpcError = (error as { error?: RpcErrorObject }).error;
    if (rpcError?.code === TASK_KNOWN_CODE) return { known: true, result: rpcError.data ?? null };
    if (rpcError === undefined) {
      throw new SendTaskUnanswered(`sendTask failed: ${(error as Error).message}`, { cause: error });
    }
    const reason = typeof rpcError.message === "string" ? rpcError.message : (error as Error).message;
    throw new Error(`sendTask failed: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
    provider.destroy();
  }
}
