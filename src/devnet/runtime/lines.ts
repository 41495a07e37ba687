/**
 * Byte streams to text lines, for both runtimes' logs. Docker multiplexes stdout and stderr of a
 * non-TTY container into 8-byte-header frames; the process runtime appends both to one file.
 */

import { StringDecoder } from "node:string_decoder";

const MAX_PARTIAL = 1_000_000;

/** Splits chunks into lines (without `\n`/`\r\n`); a last unterminated line is emitted at the end. */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let partial = "";
  // The decoder keeps a multi-byte character that straddles two chunks intact.
  const decoder = new StringDecoder("utf8");
  for await (const chunk of chunks) {
    partial += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let index = partial.indexOf("\n");
    while (index !== -1) {
      yield partial.slice(0, index).replace(/\r$/, "");
      partial = partial.slice(index + 1);
      index = partial.indexOf("\n");
    }
    // A runaway line without newline must not grow without bound.
    if (partial.length > MAX_PARTIAL) {
      yield partial;
      partial = "";
    }
  }
  partial += decoder.end();
  if (partial !== "") yield partial.replace(/\r$/, "");
}

/**
 * Docker's multiplexed log format: each frame is `[stream, 0, 0, 0, size (uint32 BE)]` followed by
 * `size` bytes. Yields the payloads of stdout and stderr frames in order.
 */
export async function* demuxDockerStream(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let buffer: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      yield buffer.subarray(8, 8 + size);
      buffer = buffer.subarray(8 + size);
    }
  }
}

/** Splits a finished multiplexed buffer (Docker logs without `follow`) into lines. */
export function demuxDockerBuffer(buffer: Buffer): string[] {
  const parts: Buffer[] = [];
  let offset = 0;
  // A TTY container's logs are raw, without frame headers: detect by the first header byte.
  const framed =
    buffer.length >= 8 && buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) parts.push(buffer);
  else {
    while (offset + 8 <= buffer.length) {
      const size = buffer.readUInt32BE(offset + 4);
      parts.push(buffer.subarray(offset + 8, Math.min(buffer.length, offset + 8 + size)));
      offset += 8 + size;
    }
  }
  const text = Buffer.concat(parts).toString("utf8");
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
