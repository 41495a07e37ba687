/**
 * The layers of avsctl (CONTRIBUTING.md, "Architecture"), checked by test/unit/layers.test.ts:
 *   cli -> use cases (task, quickstart, init, dashboard) -> domain (node, devnet, workflow, triggers,
 *   task-engine, task-def, keys, client, ipfs) -> lower (chain, config, crypto) -> base (errors, util).
 * Lazy `await import()` counts like a static import: a layer is a rule about code, not timing.
 * It reads the built dist/ (`npm test` builds first): dependency-cruiser cannot parse sources
 * with TypeScript 7, and type-only imports vanish from dist, so these rules bind running code.
 */
const USE_CASES = "^dist/(task|quickstart|init|dashboard)/";
const DOMAIN = "^dist/(node|devnet|workflow|task-engine|triggers|task-def|keys|client|ipfs)/";
const LOWER = "^dist/(chain|config|crypto)/";

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", from: { path: "^dist/" }, to: { circular: true } },
    {
      name: "cli-is-the-top",
      comment: "only the CLI imports the CLI: the core never prints or parses flags",
      severity: "error",
      from: { path: "^dist/", pathNot: "^dist/cli/" },
      to: { path: "^dist/cli/" },
    },
    {
      name: "domain-below-use-cases",
      severity: "error",
      from: { path: DOMAIN },
      to: { path: USE_CASES },
    },
    {
      name: "lower-below-domain",
      severity: "error",
      from: { path: LOWER },
      to: { path: [USE_CASES, DOMAIN, "^dist/cli/"] },
    },
    {
      name: "crypto-below-chain",
      severity: "error",
      from: { path: "^dist/crypto/" },
      to: { path: "^dist/(chain|config)/" },
    },
    {
      name: "base-imports-nothing-above",
      severity: "error",
      from: { path: "^dist/(errors\\.js|util/|shell-quote\\.js)" },
      to: { path: "^dist/", pathNot: "^dist/(errors\\.js|util/|shell-quote\\.js)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.map$" },
  },
};
