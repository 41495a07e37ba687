import type { Command } from "commander";
import { invalidArgument } from "../../errors.js";
import {
  boundedOption,
  httpUrl,
  intRange,
  oneOf,
  seconds,
  taskDefinitionId,
  typedOption,
  uintNumber,
} from "../parse.js";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/task.js");

/**
 * `<taskNumber|taskHash>`: a hash stays a hash, a decimal is a task number. `0x` with fewer
 * digits is a hash cut short (a paste), not a number in hex: reading `0xdeadbeef` as task
 * 3735928559 would answer a question nobody asked.
 */
function taskRef(value: string): { number: number } | { hash: string } {
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return { hash: value };
  if (/^0x/i.test(value))
    throw invalidArgument(
      "<taskNumber|taskHash>",
      `"${value}" is not a task hash: a hash is 0x and 64 hex digits (${value.length - 2} here); a task number is decimal`,
    );
  if (!/^\d+$/.test(value.trim()))
    throw invalidArgument(
      "<taskNumber|taskHash>",
      `"${value}" is neither a task number (decimal) nor a task hash (0x and 64 hex digits)`,
    );
  return { number: uintNumber("<taskNumber|taskHash>", 32)(value) };
}

const targetChain = (help: string) =>
  typedOption("--target-chain <chainId>", help, uintNumber("--target-chain", 64));

export function registerTask(program: Command, runner: Runner): void {
  const task = program.command("task").description("fire test tasks and follow their on-chain verdicts");
  task
    .command("send")
    .description("send a task (as the performer, or through the execution service)")
    .addOption(
      typedOption("--task-def <id>", "task definition id", taskDefinitionId("--task-def"), {
        value: 1,
        shown: "1",
      }),
    )
    .addOption(
      typedOption(
        "--via <path>",
        "execution (POST the project's /task/execute; the default when the devnet runs one) | rpc (sign and call sendTask)",
        oneOf("--via", ["rpc", "execution"]),
      ),
    )
    .option("--proof <string>", "proof of task")
    .option(
      "--data <string|0xhex|json>",
      "task data; with --via execution a JSON object gives the task's inputs",
    )
    .addOption(
      typedOption("--sig-type <type>", "ecdsa (default) | bls; implies --via rpc", (v) =>
        oneOf("--sig-type", ["ecdsa", "bls"])(v.toLowerCase()),
      ),
    )
    .addOption(targetChain("L2 chain id"))
    .addOption(
      typedOption(
        "--aggregator <url>",
        "aggregator JSON-RPC URL (default: the devnet's)",
        httpUrl("--aggregator"),
      ),
    )
    .option("--wait", "wait until the task is submitted or rejected on-chain")
    .addOption(
      typedOption("--timeout <s>", "seconds to wait", seconds("--timeout", 3600), {
        value: 60_000,
        shown: "60",
      }),
    )
    .addOption(boundedOption("--count <n>", "number of tasks", 100_000, 1))
    .addOption(boundedOption("--concurrency <n>", "tasks in flight", 1000, 1))
    .addOption(typedOption("--rate <n>", "tasks per second at most", intRange("--rate", 1, 100_000)))
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskSend(ctx, opts)));
  task
    .command("status")
    .description("the verdict of one task")
    .argument("<taskNumber|taskHash>", "a task number, or a task hash (0x + 64 hex digits)", taskRef)
    .addOption(targetChain("L2 chain id (default: the first)"))
    .action(runner.action(async (ctx, args, opts) => (await handlers()).taskStatus(ctx, args[0], opts)));
  task
    .command("trace")
    .description(
      "one task's life in order with times: sendTask, validation calls and answers, votes, threshold, submission (gas), verdict",
    )
    .argument("<taskHash|taskNumber>", "a task hash (0x + 64 hex digits), or a task number", taskRef)
    .addOption(targetChain("L2 chain id (default: the first)"))
    .action(runner.action(async (ctx, args, opts) => (await handlers()).taskTrace(ctx, args[0], opts)));
  task
    .command("list")
    .description("tasks from chain events")
    .addOption(typedOption("--task-def <id>", "only this task definition", uintNumber("--task-def", 16)))
    .addOption(
      typedOption("--status <status>", "approved | rejected", oneOf("--status", ["approved", "rejected"])),
    )
    .addOption(typedOption("--from-block <n>", "", uintNumber("--from-block", 64)))
    .addOption(typedOption("--to-block <n>", "", uintNumber("--to-block", 64)))
    .addOption(targetChain("only this L2 chain id (default: every L2 of the devnet)"))
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskList(ctx, opts)));
  task
    .command("watch")
    .description("stream new verdicts until interrupted (one JSON line each with --json)")
    .addOption(targetChain("L2 chain id (default: the first)"))
    .addOption(typedOption("--timeout <s>", "stop after this many seconds", seconds("--timeout", 1_000_000)))
    .addOption(
      typedOption(
        "--from-block <n>",
        "report verdicts from this block on (default: the next block), so a script can start watching before it sends",
        uintNumber("--from-block", 64),
      ),
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskWatch(ctx, opts)));
  task
    .command("triggers")
    .description("the configured triggers of the running devnet with their next firing")
    .action(runner.action(async (ctx) => (await handlers()).taskTriggers(ctx)));
}
