/**
 * `avsctl devnet ui` in a real headless browser (Debian's chromium, driven by puppeteer-core): a
 * process-runtime devnet, the dashboard started as a user would, three tasks (two valid, one with
 * a wrong proof) seen arriving with their verdicts, an attester killed and seen going down.
 * Screenshots land in test-results/dashboard/.
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { type Browser, launch, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLabelledProcesses } from "../../../src/devnet/runtime/process.js";
import { repoRoot } from "../../helpers/cli.js";
import { stopSupervision, type TempProject, tempProject } from "./support.js";
import { type RunningUi, startUi } from "./ui-process.js";

const CHROMIUM = process.env.AVSCTL_CHROMIUM ?? "/usr/bin/chromium";
const shots = path.join(repoRoot, "test-results", "dashboard");
// CI installs chromium (scripts/ci-chromium.sh) and never skips; elsewhere its absence skips.
const runnable = process.env.CI === "true" || existsSync(CHROMIUM);
if (!runnable)
  console.warn(`SKIPPED: the dashboard e2e needs chromium at ${CHROMIUM} (apt-get install chromium)`);

const WAIT_MS = 90_000;

let p: TempProject;
let state: any;
let ui: RunningUi | undefined;
let url: string;
let browser: Browser | undefined;
let page: Page;
const offHost: string[] = [];
const pageErrors: string[] = [];
const sent: Array<{ taskHash: string; verdict: "approved" | "rejected" }> = [];

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

const rowSelector = (hash: string, verdict?: string) =>
  `[data-testid="task-row"][data-task-hash="${hash.toLowerCase()}"]${verdict ? `[data-verdict="${verdict}"]` : ""}`;

describe.skipIf(!runnable)("devnet ui in headless chromium (process runtime)", () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    p = tempProject("e2e-dash");
    const up = await p.cli(["devnet", "up", "--runtime", "process", "--json"]);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    state = up.json();
    ui = await startUi(p.dir);
    url = ui.url;
    expect(new URL(url).hostname).toBe("127.0.0.1");
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    // The page must work without network: anything for another host is refused and remembered.
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const u = new URL(req.url());
      if (u.protocol === "data:" || u.hostname === "127.0.0.1") void req.continue();
      else {
        offHost.push(req.url());
        void req.abort();
      }
    });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(url, { waitUntil: "load" });
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await ui?.stop(5_000);
    if (p) {
      await p.cli(["devnet", "down"]);
      p.remove();
    }
  }, 120_000);

  it("shows the topology live: chains, every operator up, the components", async () => {
    await page.waitForSelector('[data-testid="app"][data-connected="true"]', { timeout: WAIT_MS });
    await page.waitForSelector('[data-testid="chain"]', { timeout: WAIT_MS });
    for (const a of state.attesters) {
      await page.waitForSelector(
        `[data-testid="operator-health"][data-operator="${a.name}"][data-health="up"]`,
        { timeout: WAIT_MS },
      );
    }
    const roles = await page.$$eval('[data-testid="chain"]', (els) =>
      els.map((e) => e.getAttribute("data-role")),
    );
    expect(roles).toContain("l1");
    expect(roles).toContain("l2");
    expect(await page.$$('[data-testid="component-health"]')).not.toHaveLength(0);
    await shot("1-topology");
  });

  it("shows 3 tasks arriving with their verdicts: approved, approved, rejected", async () => {
    for (const data of ["dash-1", "dash-2"]) {
      const r = await p.cli(["task", "send", "--wait", "--via", "rpc", "--data", data, "--json"]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      sent.push({ taskHash: r.json().taskHash, verdict: "approved" });
    }
    const bad = await p.cli(["task", "send", "--wait", "--via", "rpc", "--proof", "0xbad", "--json"]);
    expect(bad.code, bad.stderr + bad.stdout).toBe(1);
    expect(bad.json().status).toBe("rejected");
    sent.push({ taskHash: bad.json().taskHash, verdict: "rejected" });

    for (const t of sent)
      await page.waitForSelector(rowSelector(t.taskHash, t.verdict), { timeout: WAIT_MS });
    const rejected = sent[2]!.taskHash;
    await page.waitForSelector(`${rowSelector(rejected)} [data-testid="task-vote"][data-verdict="reject"]`, {
      timeout: WAIT_MS,
    });
    const tx = await page.$eval(`${rowSelector(rejected)} [data-testid="task-tx"]`, (e) =>
      e.getAttribute("title"),
    );
    expect(tx).toBe(bad.json().txHash);
    expect(await page.$$eval('[data-testid="task-row"]', (els) => els.length)).toBeGreaterThanOrEqual(3);
    await shot("2-tasks");
  });

  it("filters tasks by task definition", async () => {
    const def = await page.$eval(rowSelector(sent[0]!.taskHash), (e) =>
      e.getAttribute("data-task-definition"),
    );
    expect(def).toMatch(/^\d+$/);
    await page.select('[data-testid="task-filter"]', def!);
    // evaluated in the page, where the DOM is
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid="task-row"]')].every(
        (e) => e.getAttribute("data-task-definition") === ${JSON.stringify(def)})`,
      { timeout: WAIT_MS },
    );
    for (const t of sent) expect(await page.$(rowSelector(t.taskHash))).not.toBeNull();
    await page.select('[data-testid="task-filter"]', "all");
  });

  it("a task's page shows its proof, data, signatures and each validation answer", async () => {
    const rejected = sent[2]!.taskHash;
    // found and clicked in one step in the page: a live update may replace the row in between
    await page.$eval(`${rowSelector(rejected)} [data-testid="task-link"]`, (a) =>
      (a as unknown as { click(): void }).click(),
    );
    await page.waitForSelector('[data-testid="task-page-verdict"]', { timeout: WAIT_MS });
    await page.waitForSelector('[data-testid="validation"][data-answer="false"]', { timeout: WAIT_MS });
    await page.waitForSelector('[data-testid="signature"][data-verdict="reject"]', { timeout: WAIT_MS });
    expect(await page.$eval('[data-testid="task-page-verdict"]', (e) => e.textContent)).toBe("rejected");
    expect(await page.$('[data-testid="task-proof"]')).not.toBeNull();
    expect(await page.$('[data-testid="task-data"]')).not.toBeNull();
    await shot("3-task-page");
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector(rowSelector(rejected, "rejected"), { timeout: WAIT_MS });
  });

  it("shows an attester's health turning down when its process is killed", async () => {
    const attester: string = state.attesters[0].name;
    // it is to stay down: the supervisor would start it again
    await stopSupervision(p);
    const processes = await findLabelledProcesses({
      project: p.devnet,
      projectDir: realpathSync(p.dir),
      component: attester,
    });
    expect(processes.length, `no process labelled ${attester}`).toBeGreaterThan(0);
    for (const { pid } of processes) process.kill(pid, "SIGKILL");
    await page.waitForSelector(
      `[data-testid="operator-health"][data-operator="${attester}"][data-health="down"]`,
      { timeout: WAIT_MS },
    );
    await shot("4-attester-down");
  });

  it("asked nothing of another host and threw no error in the page", () => {
    expect(offHost).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
