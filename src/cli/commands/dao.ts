import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeFunctionData, type Hex } from "viem";
import { revenueDistributorAbi } from "../../chain/abis.ts";
import { computeEpoch, type ScanProgress } from "../../distribution/computeEpoch.ts";
import { type EpochInput, EpochInputError, readEpochInput } from "../../distribution/epochInput.ts";
import {
  type DistributionReport,
  ReportError,
  readReport,
  reportCsv,
  reportHashOf,
  serializeReport,
} from "../../distribution/report.ts";
import { CliError } from "../CliError.ts";
import { type CliContext, createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { confirm, output, send } from "../ui.ts";

/** Prints scan progress on stderr (so --json output stays clean): a bar on a terminal, a line per tenth otherwise. */
function progressPrinter() {
  let lastTenth = -1;
  return (p: ScanProgress) => {
    const span = p.toBlock - p.fromBlock + 1n;
    const done = Number(((p.scannedTo - p.fromBlock + 1n) * 100n) / (span === 0n ? 1n : span));
    if (process.stderr.isTTY) {
      const bar = "#".repeat(Math.floor(done / 5)).padEnd(20, "-");
      process.stderr.write(`\rscanning blocks [${bar}] ${done}% · ${p.stakers} stakers`);
      if (p.scannedTo === p.toBlock) process.stderr.write("\n");
    } else if (Math.floor(done / 10) !== lastTenth) {
      lastTenth = Math.floor(done / 10);
      console.error(`scanning blocks: ${done}% (to block ${p.scannedTo}), ${p.stakers} stakers`);
    }
  };
}

function readInput(inputFile: string): EpochInput {
  try {
    return readEpochInput(inputFile);
  } catch (error) {
    if (error instanceof EpochInputError) throw new CliError(error.message);
    throw error;
  }
}

async function compute(
  context: CliContext,
  input: EpochInput,
  inputDir: string,
  atBlock?: bigint,
  scanCacheFile?: string,
) {
  try {
    return await computeEpoch({
      client: context.publicClient,
      chainId: context.chain.id,
      votingEscrow: context.addresses.votingEscrow,
      revenueDistributor: context.addresses.revenueDistributor,
      input,
      inputDir,
      ...(atBlock === undefined ? {} : { atBlock }),
      ...(scanCacheFile === undefined ? {} : { scanCacheFile }),
      onProgress: progressPrinter(),
    });
  } catch (error) {
    if (error instanceof ReportError) throw new CliError(error.message);
    throw new CliError(`reading the chain failed, nothing was written: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** Writes `text` to `file` through a temporary file and a rename: a reader never sees half a file. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.partial`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** `tmai dao compute <epoch.json> [--out dir]`: computes the epoch and writes its report (JSON + CSV). */
export async function daoCompute(options: GlobalOptions, inputFile: string, outDir: string): Promise<void> {
  const context = await createCliContext(options);
  mkdirSync(outDir, { recursive: true });
  const input = readInput(inputFile);
  const cache = path.join(outDir, `.scan-cache-chain-${context.chain.id}.json`);
  const report = await compute(context, input, path.dirname(path.resolve(inputFile)), undefined, cache);
  const text = serializeReport(report);
  const file = path.join(outDir, `epoch-${report.epoch}.json`);
  const csv = path.join(outDir, `epoch-${report.epoch}.csv`);
  writeAtomically(file, text);
  writeAtomically(csv, reportCsv(report));
  const reportHash = reportHashOf(text);
  const summary = {
    epoch: report.epoch,
    file,
    csv,
    root: report.root,
    reportHash,
    accounts: report.accounts.length,
    totals: report.totals,
  };
  output(
    context,
    [
      `epoch ${report.epoch} (${report.start} → ${report.end}): ${report.accounts.length} accounts`,
      `root        ${report.root}`,
      `reportHash  ${reportHash}`,
      ...report.totals.map((t) => `total       ${t.token}: ${t.epochAmount} this epoch, ${t.cumulative} cumulative`),
      `wrote       ${file}, ${csv}`,
      `next        tmai dao propose ${file}`,
    ].join("\n"),
    summary,
  );
}

/** `tmai dao verify <report>`: recomputes the epoch from chain data and the report's inputs. */
export async function daoVerify(options: GlobalOptions, reportFile: string): Promise<void> {
  const context = await createCliContext(options);
  const { report, reportHash, text } = readReportOrFail(reportFile);
  if (report.chainId !== context.chain.id) {
    throw new CliError(
      `the report is for chain ${report.chainId}, but the RPC endpoint serves chain ${context.chain.id}`,
    );
  }
  // The inputs as the DAO gave them; the previous report is expected beside this one.
  const dir = path.dirname(path.resolve(reportFile));
  const previousFile = report.inputs.previous ? `epoch-${report.inputs.previous.epoch}.json` : undefined;
  if (report.inputs.previous && !existsSync(path.join(dir, previousFile as string))) {
    throw new CliError(`verifying epoch ${report.epoch} needs the previous report ${previousFile} in ${dir}`);
  }
  const input: EpochInput = {
    epoch: report.epoch,
    start: BigInt(Date.parse(report.start) / 1000),
    end: BigInt(Date.parse(report.end) / 1000),
    rewards: report.inputs.rewards.map((r) => ({ token: r.token, amount: BigInt(r.amount) })),
    exclude: report.inputs.exclude,
    ...(previousFile ? { previous: previousFile } : {}),
    fromBlock: BigInt(report.blocks.from),
  };
  const recomputed = await compute(context, input, dir, BigInt(report.blocks.to));
  const recomputedText = serializeReport(recomputed);
  if (recomputedText === text) {
    output(context, `verified: epoch ${report.epoch}, root ${report.root}, reportHash ${reportHash}`, {
      verified: true,
      root: report.root,
      reportHash,
    });
    return;
  }
  const differences = diffAccounts(report, recomputed);
  const message =
    `the report does not match the chain: recomputed root ${recomputed.root}, report says ${report.root}` +
    (differences.length ? `; first differences:\n${differences.slice(0, 5).join("\n")}` : "");
  throw new CliError(message);
}

/** `tmai dao propose <report> [--calldata]`: checks funding and sends `proposeRoot` (or prints its calldata). */
export async function daoPropose(options: GlobalOptions, reportFile: string, calldataOnly: boolean): Promise<void> {
  const context = await createCliContext(options);
  const { report, reportHash } = readReportOrFail(reportFile);
  const distributor = context.addresses.revenueDistributor;
  for (const total of report.totals) {
    const funded = await context.publicClient.readContract({
      address: distributor,
      abi: revenueDistributorAbi,
      functionName: "funded",
      args: [total.token],
    });
    if (funded < BigInt(total.cumulative)) {
      throw new CliError(
        `the distributor is short of ${total.token}: funded ${funded}, the report promises ${total.cumulative} in total; ` +
          `fund ${BigInt(total.cumulative) - funded} more with RevenueDistributor.fund before proposing`,
      );
    }
  }
  const args = [
    report.root,
    reportHash,
    report.totals.map((t) => t.token),
    report.totals.map((t) => BigInt(t.cumulative)),
  ] as const;
  if (calldataOnly) {
    const data = encodeFunctionData({ abi: revenueDistributorAbi, functionName: "proposeRoot", args });
    output(context, `to    ${distributor}\ndata  ${data}`, { to: distributor, value: "0", data });
    return;
  }
  const signer = withSigner(context);
  const allowed = await context.publicClient.readContract({
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "isRootProposer",
    args: [signer.account.address],
  });
  if (!allowed) {
    throw new CliError(
      `${signer.account.address} may not propose roots: use a proposer's key, or print the calldata with --calldata`,
    );
  }
  console.error(`Propose root ${report.root} for epoch ${report.epoch} (report ${reportHash}).`);
  await confirm(signer, "Send the proposal?");
  await send(signer, {
    label: "proposeRoot",
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "proposeRoot",
    args,
  });
  const [, , acceptableAt] = await context.publicClient.readContract({
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "pendingRoot",
  });
  output(
    context,
    `proposed; anyone may accept it from ${new Date(Number(acceptableAt) * 1000).toISOString()} (RevenueDistributor.acceptRoot)`,
    { proposed: true, root: report.root, reportHash, acceptableAt },
  );
}

function readReportOrFail(file: string): { report: DistributionReport; reportHash: Hex; text: string } {
  try {
    return readReport(file);
  } catch (error) {
    if (error instanceof ReportError || error instanceof SyntaxError) throw new CliError((error as Error).message);
    throw error;
  }
}

/** The accounts whose amounts differ between two reports, first ones first. */
function diffAccounts(expected: DistributionReport, actual: DistributionReport): string[] {
  const describe = (report: DistributionReport) =>
    new Map(
      report.accounts.map((row) => [row.account, row.rewards.map((r) => `${r.token}=${r.cumulative}`).join(" ")]),
    );
  const a = describe(expected);
  const b = describe(actual);
  const accounts = [...new Set([...a.keys(), ...b.keys()])].sort();
  return accounts
    .filter((account) => a.get(account) !== b.get(account))
    .map((account) => `  ${account}: report ${a.get(account) ?? "(absent)"}, chain ${b.get(account) ?? "(absent)"}`);
}
