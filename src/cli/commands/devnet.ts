import type { Command } from "commander";
import type { RuntimeRequest } from "../../devnet/runtime/select.js";
import { httpUrl, intRange, oneOf, sinceTime, taskHashArg, uintNumber } from "../parse.js";
import type { Runner } from "../runner.js";
import { registerDevnetState } from "./devnet-state.js";

/** `--runtime`: checked here, so the devnet gets a runtime it knows (exit 2 otherwise). */
export const parseRuntime: (value: string) => RuntimeRequest = oneOf("--runtime", [
  "auto",
  "docker",
  "process",
]);

const parseServicesRuntime = oneOf("--services-runtime", ["docker", "process"]);

const parseEnvFormat = oneOf("--format", ["dotenv", "shell", "json"]);

/** A service URL as the state keeps it: without its trailing slash. */
const serviceUrl = (flag: string) => (value: string) => httpUrl(flag)(value).replace(/\/$/, "");

const handlers = () => import("../handlers/devnet.js");

export function registerDevnet(program: Command, runner: Runner): void {
  const devnet = program
    .command("devnet")
    .description("a local AVS network: chains, contracts, operators, nodes, services");
  devnet
    .command("up")
    .description("start, deploy, register and wait until healthy, then return (detached)")
    // No commander defaults: a flag left out takes the config's value (whose defaults are
    // these), and `up` on a running devnet compares only what was asked.
    .option(
      "--runtime <runtime>",
      "auto | docker | process (default auto, or the config's devnet.runtime; auto: docker when the engine answers)",
      parseRuntime,
    )
    .option(
      "--attesters <n>",
      "number of attester nodes (default 3, or devnet.attesters)",
      intRange("--attesters", 1, 64),
    )
    .option(
      "--l2-chains <n>",
      "number of L2 chains (default 1, or devnet.l2Chains)",
      intRange("--l2-chains", 1, 8),
    )
    .option(
      "--block-time <s>",
      "seconds per block, 0 = mine on each transaction (default 0, or devnet.blockTime)",
      intRange("--block-time", 0, 3600),
    )
    .option("--no-services", "start no execution/validation service")
    .option(
      "--engine",
      'start the task engine and its "workflows" task definition (default: devnet.engine, else only in a workflow project)',
    )
    .option("--no-engine", "start no task engine: the config's task definitions alone")
    .option("--fresh", "tear down any existing devnet of this project first")
    .option(
      "--validation-url <url>",
      "use a validation service you run yourself",
      serviceUrl("--validation-url"),
    )
    .option(
      "--execution-url <url>",
      "use an execution service you run yourself",
      serviceUrl("--execution-url"),
    )
    .option(
      "--services-runtime <runtime>",
      "docker | process: where the project's services run (default: the devnet's runtime, or devnet.servicesRuntime)",
      parseServicesRuntime,
    )
    .option(
      "--ca-certs <file>",
      "PEM CA certificates the services' image builds and containers trust (default: devnet.caCerts, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)",
    )
    .option(
      "--operator-keys <dir>",
      "run one attester per operator of this keys directory (`avsctl keys import`), with its own keys",
    )
    .option(
      "--watch",
      "then stay in the foreground and reload the service whose files change (as `devnet watch`)",
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetUpCommand(ctx, opts)));
  devnet
    .command("down")
    .description(
      "remove every container, network and process of this project's devnet; its saved state stays",
    )
    .option("--all", "remove every avsctl devnet on this machine")
    .option(
      "--volumes",
      "also delete the saved state (chain state, journal, IPFS): the next `up` starts clean",
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetDownCommand(ctx, opts)));
  registerDevnetState(devnet, runner);
  devnet
    .command("status")
    .description("check every component of the devnet, services you run included (exit 1 when one is down)")
    .action(
      runner.action(async (ctx) => (await import("../handlers/devnet-status.js")).devnetStatusCommand(ctx)),
    );
  devnet
    .command("env")
    .description("print the environment the devnet gives a project service, for one you run yourself")
    .option("--format <format>", "dotenv | shell | json (default dotenv; --json means json)", parseEnvFormat)
    .option(
      "--service <service>",
      "only what this service needs: execution | validation (default: both)",
      oneOf("--service", ["execution", "validation"]),
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetEnvCommand(ctx, opts)));
  devnet
    .command("logs")
    .description("one component's log, or every component's merged in time order")
    .argument("[node]")
    .option("-f, --follow", "keep streaming")
    .option("--tail <n>", "lines from the end (of each component)", uintNumber("--tail"))
    .option(
      "--since <duration|time>",
      "only lines from this time on (5m, 1h, or an ISO time)",
      sinceTime("--since"),
    )
    .option("--task <hash>", "only the lines about this task", taskHashArg("--task"))
    .action(
      runner.action(async (ctx, args, opts) => (await handlers()).devnetLogsCommand(ctx, args[0], opts)),
    );
  devnet
    .command("restart")
    .description("restart one component")
    .argument("<node>")
    .action(runner.action(async (ctx, args) => (await handlers()).devnetRestartCommand(ctx, args[0]!)));
  devnet
    .command("watch")
    .description(
      "reload the project's service whose files change (rebuild, restart) until Ctrl-C; the devnet keeps running",
    )
    .option("--ca-certs <file>", "PEM CA certificates a service image rebuild trusts (as `devnet up`)")
    .action(
      runner.action(async (ctx, _args, opts) =>
        (await import("../handlers/devnet-watch.js")).devnetWatchCommand(ctx, opts),
      ),
    );
  devnet
    .command("ui")
    .description(
      "serve a live web view of the devnet on 127.0.0.1 until Ctrl-C: operators, tasks, votes, verdicts",
    )
    .option(
      "--port <port>",
      "port on 127.0.0.1 (default: any free one, printed)",
      intRange("--port", 0, 65535),
    )
    .option("--open", "open it in the browser")
    .action(
      runner.action(async (ctx, _args, opts) =>
        (await import("../handlers/devnet-ui.js")).devnetUiCommand(ctx, opts),
      ),
    );
  devnet
    .command("export")
    .description("write the devnet topology for Docker Compose or Kubernetes")
    .option("--format <format>", "compose | k8s", "compose")
    .option("-o, --output <file>", "output file (default: stdout)")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetExportCommand(ctx, opts)));
  devnet
    .command("bootstrap", { hidden: true })
    .description("deploy, register and create task definitions on fresh chains (an exported topology's job)")
    .option("--attesters <n>", "number of attesters", intRange("--attesters", 1, 64), 3)
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetBootstrapCommand(ctx, opts)));
  devnet
    .command("service", { hidden: true })
    .description("run one of avsctl's built-in services (used inside the devnet)")
    .argument("<name>", "sample-validation | sample-execution | price-feed | ipfs | triggers | task-engine")
    .option("--port <port>", "port", intRange("--port", 0, 65535), 0)
    .option("--host <host>", "bind address", "127.0.0.1")
    .action(
      runner.action(async (ctx, args, opts) => (await handlers()).devnetServiceCommand(ctx, args[0]!, opts)),
    );
}
