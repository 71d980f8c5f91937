import { createInterface } from "node:readline/promises";
import ora from "ora";
import type { Abi, ContractFunctionArgs, ContractFunctionName, TransactionReceipt } from "viem";
import { CliError } from "./CliError.ts";
import type { CliContext, SignerContext } from "./context.ts";
import { explainRevert } from "./explainRevert.ts";

/** JSON with bigints as decimal strings (amounts never become JSON numbers). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Prints `text` for people, or `data` as JSON with `--json`. */
export function output(context: Pick<CliContext, "options">, text: string, data: unknown): void {
  console.log(context.options.json ? toJson(data) : text);
}

/** Asks before sending (skipped with --yes); refuses to guess when nobody can answer. */
export async function confirm(context: CliContext, question: string): Promise<void> {
  if (context.options.yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(`${question} — no terminal to ask: add --yes to confirm without a prompt`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("cancelled: nothing was sent");
}

export interface SendParameters<AbiT extends Abi, NameT extends ContractFunctionName<AbiT, "nonpayable">> {
  label: string;
  address: `0x${string}`;
  abi: AbiT;
  functionName: NameT;
  args?: ContractFunctionArgs<AbiT, "nonpayable", NameT>;
}

/**
 * Simulates the call (a revert becomes a plain explanation before anything is signed), sends it, and shows a
 * spinner on a terminal (a progress line otherwise) until it is mined.
 */
export async function send<AbiT extends Abi, NameT extends ContractFunctionName<AbiT, "nonpayable">>(
  context: SignerContext,
  parameters: SendParameters<AbiT, NameT>,
): Promise<TransactionReceipt> {
  const { label, ...call } = parameters;
  const { decimals, symbol } = context.token;
  let hash: `0x${string}`;
  try {
    const { request } = await context.publicClient.simulateContract({ ...call, account: context.account } as never);
    hash = await context.walletClient.writeContract(request as never);
  } catch (error) {
    throw explainRevert(error, decimals, symbol);
  }
  const interactive = process.stderr.isTTY === true && !context.options.json;
  const spinner = ora({ text: `${label}: waiting for ${hash}`, stream: process.stderr, isEnabled: interactive });
  if (interactive) spinner.start();
  else console.error(`${label}: sent ${hash}, waiting for it to be mined…`);
  const receipt = await context.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") {
    spinner.fail(`${label}: reverted in block ${receipt.blockNumber}`);
    throw new CliError(`${label} reverted on-chain (transaction ${hash})`);
  }
  const done = `${label}: mined in block ${receipt.blockNumber} (gas ${receipt.gasUsed})`;
  if (interactive) spinner.succeed(done);
  else console.error(done);
  return receipt;
}
