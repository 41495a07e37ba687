type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | null | ((ev: Event) => void)>;

/** Builds an element; text always goes through text nodes, so served data is never parsed as HTML. */
export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

const SVG = "http://www.w3.org/2000/svg";

export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

export const short = (hex: string | undefined | null, keep = 6): string =>
  !hex ? "—" : hex.length <= 2 * keep + 2 ? hex : `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`;

export const time = (ms: number | null | undefined): string =>
  ms === undefined || ms === null ? "—" : new Date(ms).toISOString().slice(11, 23);

/** wei as a decimal string, shown in ether with up to 4 decimals. */
export function ether(wei: string | undefined | null): string {
  if (wei === undefined || wei === null || wei === "") return "—";
  try {
    const v = BigInt(wei);
    const unit = 10n ** 18n;
    const whole = v / unit;
    const frac = ((v % unit) * 10_000n) / unit;
    return frac === 0n ? `${whole}` : `${whole}.${frac.toString().padStart(4, "0").replace(/0+$/, "")}`;
  } catch {
    return wei;
  }
}
