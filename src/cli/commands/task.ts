import type { Command } from "commander";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/task.js");

export function registerTask(program: Command, runner: Runner): void {
  const task = program.command("task").description("fire test tasks and follow their on-chain verdicts");
  task
    .command("send")
    .description("send a task (as the performer, or through the execution service)")
    .option("--task-def <id>", "task definition id", "1")
    .option(
      "--via <path>",
      "execution (POST the project's /task/execute; the default when the devnet runs one) | rpc (sign and call sendTask)",
    )
    .option("--proof <string>", "proof of task")
    .option(
      "--data <string|0xhex|json>",
      "task data; with --via execution a JSON object gives the task's inputs",
    )
    .option("--sig-type <type>", "ecdsa (default) | bls; implies --via rpc")
    .option("--target-chain <chainId>", "L2 chain id")
    .option("--aggregator <url>", "aggregator JSON-RPC URL (default: the devnet's)")
    .option("--wait", "wait until the task is submitted or rejected on-chain")
    .option("--timeout <s>", "seconds to wait", "60")
    .option("--count <n>", "number of tasks", "1")
    .option("--concurrency <n>", "tasks in flight", "1")
    .option("--rate <n>", "tasks per second at most")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskSend(ctx, opts)));
  task
    .command("status")
    .description("the verdict of one task")
    .argument("<taskNumber|taskHash>")
    .option("--target-chain <chainId>", "L2 chain id (default: the first)")
    .action(runner.action(async (ctx, args, opts) => (await handlers()).taskStatus(ctx, args[0]!, opts)));
  task
    .command("list")
    .description("tasks from chain events")
    .option("--task-def <id>", "only this task definition")
    .option("--status <status>", "approved | rejected")
    .option("--from-block <n>")
    .option("--to-block <n>")
    .option("--target-chain <chainId>", "only this L2 chain id (default: every L2 of the devnet)")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskList(ctx, opts)));
  task
    .command("watch")
    .description("stream new verdicts until interrupted (one JSON line each with --json)")
    .option("--target-chain <chainId>", "L2 chain id (default: the first)")
    .option("--timeout <s>", "stop after this many seconds")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskWatch(ctx, opts)));
  task
    .command("triggers")
    .description("the configured triggers of the running devnet with their next firing")
    .action(runner.action(async (ctx) => (await handlers()).taskTriggers(ctx)));
}
