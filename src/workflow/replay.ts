/**
 * The inputs of a run: every answer a node got from outside (an HTTP response of restApi or
 * graphqlQuery, the return data of a contractRead's eth_call, what the chain made of a
 * contractWrite call or an ethTransfer: its receipt when sent, its eth_call and gas estimate
 * when simulated), so that a run can be replayed from them without the network. An attester re-runs a performer's workflow this way: the
 * same workflow on the same inputs gives the same steps (see comparableRecord()).
 *
 * Each answer is keyed by its request (kind plus the canonical JSON of what was asked). A
 * replay answers a request with the first unused recorded answer of the same key; a request
 * nobody recorded fails its node, so a record that lacks or alters an input replays to a
 * different result.
 */

import { canonicalJson } from "./canonical.ts";

export type InputKind = "http" | "call" | "tx";

const KINDS: readonly string[] = ["http", "call", "tx"] satisfies InputKind[];

/** One recorded answer: the value, or the error message the request ended with. */
export interface RecordedInput {
  kind: InputKind;
  request: unknown;
  value?: unknown;
  error?: string;
}

export class InputTape {
  readonly mode: "record" | "replay";
  private readonly entries: RecordedInput[];
  private readonly used = new Set<number>();

  private constructor(mode: "record" | "replay", entries: RecordedInput[]) {
    this.mode = mode;
    this.entries = entries;
  }

  /** A tape that performs each request and keeps its answer. */
  static recording(): InputTape {
    return new InputTape("record", []);
  }

  /** A tape that answers from `inputs` and never performs a request. */
  static replaying(inputs: readonly RecordedInput[]): InputTape {
    return new InputTape("replay", inputs.map(checkInput));
  }

  /** What was recorded so far, in the order the answers came. */
  inputs(): RecordedInput[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** Whether a replay holds an answer to `request` not yet given. */
  holds(kind: InputKind, request: unknown): boolean {
    return this.mode === "replay" && this.unused(kind, canonicalJson(request)) >= 0;
  }

  private unused(kind: InputKind, key: string): number {
    return this.entries.findIndex(
      (e, i) => !this.used.has(i) && e.kind === kind && canonicalJson(e.request) === key,
    );
  }

  /**
   * The answer to `request`: performed (and kept) when recording, looked up when replaying.
   * A failure is kept as its message and thrown again on replay.
   */
  async answer<T>(kind: InputKind, request: unknown, perform: () => Promise<T>): Promise<T> {
    const key = canonicalJson(request);
    if (this.mode === "replay") {
      const index = this.unused(kind, key);
      if (index < 0) throw new Error(`no recorded answer for this ${kind} request: ${key.slice(0, 200)}`);
      this.used.add(index);
      const entry = this.entries[index]!;
      if (entry.error !== undefined) throw new Error(entry.error);
      return entry.value as T;
    }
    const entry: RecordedInput = { kind, request: JSON.parse(key) };
    this.entries.push(entry);
    try {
      const value = await perform();
      entry.value = value;
      return value;
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }
}

function checkInput(value: unknown, i: number): RecordedInput {
  const e = value as Partial<RecordedInput> | null;
  if (!e || typeof e !== "object" || !KINDS.includes(e.kind as string) || !("request" in e)) {
    throw new Error(
      `inputs[${i}] is not a recorded input ({kind: "http"|"call"|"tx", request, value|error})`,
    );
  }
  if (e.error !== undefined && typeof e.error !== "string") throw new Error(`inputs[${i}].error is not text`);
  return {
    kind: e.kind as InputKind,
    request: e.request,
    ...("value" in e ? { value: e.value } : {}),
    ...(e.error === undefined ? {} : { error: e.error }),
  };
}
