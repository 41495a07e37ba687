import { shellQuote } from "../shell-quote.js";

/** Plain-text table: columns padded to their widest cell. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => String(c).padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const UINT256_MAX = ((1n << 256n) - 1n).toString();

/** Big integers for humans: `never` for uint256 max, ether units for large wei amounts. */
export function humanUint(value: string, kind: "wei" | "block" | "plain" = "plain"): string {
  if (value === UINT256_MAX) return kind === "block" ? "never" : "max";
  if (kind === "wei" && value.length > 12) {
    const wei = BigInt(value);
    const whole = wei / 10n ** 18n;
    const frac = (wei % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
    return `${whole}${frac ? `.${frac}` : ""} eth`;
  }
  return value;
}

/**
 * `avsctl` plus the global flags that chose the project (`--cwd`, `--config`) as the user gave
 * them, so a suggested command run from the same shell reaches the same project.
 */
export function avsctlPrefix(ctx: { cwd: string; config?: string }): string {
  const words = ["avsctl"];
  if (ctx.cwd !== process.cwd()) words.push("--cwd", shellQuote(ctx.cwd));
  if (ctx.config) words.push("--config", shellQuote(ctx.config));
  return words.join(" ");
}
