/**
 * What every part of the dashboard shares: the client-side state, the JSON API helpers and the
 * render scheduler. The scheduler calls a renderer the shell registers, so the feed and the views
 * can ask for a redraw without importing the shell (which imports them).
 */
import type { Snapshot, Task } from "./types.js";

export const HISTORY = 300;

export const state: {
  snapshot: Snapshot | null;
  connected: boolean;
  error: string | null;
  filter: string;
  detail: Task | null;
  detailError: string | null;
} = { snapshot: null, connected: false, error: null, filter: "all", detail: null, detailError: null };

// Relative URLs: the page works wherever the CLI mounts it.
export const api = (path: string) => new URL(`api/${path}`, document.baseURI).toString();

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(api(path), { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export const sameHash = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
export const sortTasks = (tasks: Task[]) => [...tasks].sort((a, b) => (b.sentAt ?? 0) - (a.sentAt ?? 0));

let renderer: () => void = () => {};

/** Called once by the shell: what `schedule` runs on the next frame. */
export function setRenderer(render: () => void): void {
  renderer = render;
}

let pending = false;
// Many events can arrive within one frame; they share one render.
export function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    renderer();
  });
}
