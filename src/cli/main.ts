/**
 * `tmai`: the wallet CLI for veTMAI — status, lock, increase, extend, permanent on|off, withdraw — against the
 * local stack (`npm start`) or a real network. The signer's private key comes from an environment variable named
 * by --key-env (default TMAI_PRIVATE_KEY), never from the command line.
 */
import { Command, Option } from "commander";
import { CliError } from "./CliError.ts";
import { claim } from "./commands/claim.ts";
import { daoCompute, daoPropose, daoVerify } from "./commands/dao.ts";
import { extend } from "./commands/extend.ts";
import { increase } from "./commands/increase.ts";
import { lock } from "./commands/lock.ts";
import { permanent } from "./commands/permanent.ts";
import { status } from "./commands/status.ts";
import { withdraw } from "./commands/withdraw.ts";
import type { GlobalOptions } from "./context.ts";
import { toJson } from "./ui.ts";

const program = new Command("tmai")
  .description("Lock TMAI into veTMAI and follow your Staking Score")
  .addOption(new Option("--network <name>", "localhost, baseSepolia or base").default("localhost"))
  .option("--rpc <url>", "JSON-RPC endpoint (overrides the network's default)")
  .option("--key-env <variable>", "environment variable that holds the signer's private key", "TMAI_PRIVATE_KEY")
  .option("--json", "print machine-readable JSON (amounts as decimal strings in base units)", false)
  .option("-y, --yes", "send without asking for confirmation", false)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

program
  .command("status [address]")
  .description("lock, veTMAI, Staking Score and tier; when the level is lost by decay; veTMAI in 30 and 90 days")
  .action((address?: string) => status(globals(), address));

program
  .command("lock")
  .description("lock TMAI (one transaction with the token's permit when it supports EIP-2612)")
  .requiredOption("--amount <tokens>", "TMAI to lock, in whole tokens (e.g. 1000 or 250.5)")
  .option("--duration <length>", "lock length: 52w, 12mo, 6mo, 30d, 1y (rounded down to a Thursday)")
  .option("--until <date>", "unlock date in ISO form, e.g. 2027-06-01 (rounded down to a Thursday)")
  .action((opts: { amount: string; duration?: string; until?: string }) => lock(globals(), opts));

program
  .command("increase")
  .description("add TMAI to your live lock")
  .requiredOption("--amount <tokens>", "TMAI to add, in whole tokens")
  .action((opts: { amount: string }) => increase(globals(), opts.amount));

program
  .command("extend")
  .description("move the end of your live lock later")
  .option("--duration <length>", "new length from now: 52w, 12mo, 6mo, …")
  .option("--until <date>", "new unlock date in ISO form")
  .action((opts: { duration?: string; until?: string }) => extend(globals(), opts));

program
  .command("permanent <on|off>")
  .description("make your lock permanent (2×, no decay) or restart a 52-week countdown")
  .action((mode: string) => permanent(globals(), mode));

program
  .command("withdraw")
  .description("take back the tokens of an expired lock")
  .action(() => withdraw(globals()));

program
  .command("claim")
  .description("claim your revenue share from the latest report (or re-lock the TMAI part with --relock)")
  .option("--report <file|url>", "the report of the accepted root (default: the newest in distributions/)")
  .option("--relock", "put the TMAI reward into your veTMAI lock instead of your wallet", false)
  .action((opts: { report?: string; relock: boolean }) => claim(globals(), opts.report, opts.relock));

const dao = program.command("dao").description("the DAO's revenue distribution: compute, propose, verify an epoch");
dao
  .command("compute <epoch.json>")
  .description("compute an epoch from chain data; writes distributions/epoch-N.json and .csv")
  .option("--out <dir>", "where to write the report", "distributions")
  .action((input: string, opts: { out: string }) => daoCompute(globals(), input, opts.out));
dao
  .command("propose <report>")
  .description("check funding and send proposeRoot (or print its calldata for a multisig or the Governor)")
  .option("--calldata", "print the transaction instead of sending it", false)
  .action((report: string, opts: { calldata: boolean }) => daoPropose(globals(), report, opts.calldata));
dao
  .command("verify <report>")
  .description("recompute an epoch from chain data and the report's inputs; exits 1 on any difference")
  .action((report: string) => daoVerify(globals(), report));

try {
  await program.parseAsync();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (globals().json) console.log(toJson({ error: message }));
  else console.error(error instanceof CliError ? `error: ${message}` : error);
  process.exitCode = 1;
}
