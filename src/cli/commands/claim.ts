import { existsSync } from "node:fs";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, getAddress, type Hex } from "viem";
import { revenueDistributorAbi } from "../../chain/abis.ts";
import { type DistributionReport, ReportError, readReport } from "../../distribution/report.ts";
import { formatTokens } from "../../format/formatTokens.ts";
import { CliError } from "../CliError.ts";
import { createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { confirm, output, send } from "../ui.ts";

/** The report at a URL (fetched) or a file path; by default the newest `distributions/epoch-N.json`. */
async function loadReport(source: string | undefined): Promise<DistributionReport> {
  if (source?.startsWith("http://") || source?.startsWith("https://")) {
    const response = await fetch(source).catch((error: Error) => {
      throw new CliError(`cannot download the report ${source}: ${error.message}`);
    });
    if (!response.ok) throw new CliError(`cannot download the report ${source}: HTTP ${response.status}`);
    return (await response.json()) as DistributionReport;
  }
  let file = source;
  if (file === undefined) {
    for (let n = 1; existsSync(path.join("distributions", `epoch-${n}.json`)); n++)
      file = path.join("distributions", `epoch-${n}.json`);
    if (file === undefined)
      throw new CliError("no report found in distributions/: give one with --report <file or URL>");
  }
  try {
    return readReport(file).report;
  } catch (error) {
    if (error instanceof ReportError || error instanceof SyntaxError) throw new CliError((error as Error).message);
    throw error;
  }
}

/**
 * `tmai claim [--report <file|url>] [--relock]`: claims everything the signer has unclaimed in the report's root;
 * with --relock, the TMAI part goes into the signer's veTMAI lock instead of the wallet.
 */
export async function claim(options: GlobalOptions, source: string | undefined, relock: boolean): Promise<void> {
  const context = withSigner(await createCliContext(options));
  const report = await loadReport(source);
  const distributor = context.addresses.revenueDistributor;
  const [root, tmai] = await Promise.all([
    context.publicClient.readContract({ address: distributor, abi: revenueDistributorAbi, functionName: "root" }),
    context.publicClient.readContract({ address: distributor, abi: revenueDistributorAbi, functionName: "tmai" }),
  ]);
  if (report.root !== root) {
    throw new CliError(
      `the report's root ${report.root} (epoch ${report.epoch}) is not the distributor's accepted root ${root}: ` +
        "use the latest accepted report (a proposed root can be claimed once it is accepted)",
    );
  }
  const tree = StandardMerkleTree.load(report.tree as Parameters<typeof StandardMerkleTree.load>[0]);
  const me = context.account.address;
  const claims: { token: Address; cumulative: bigint; proof: Hex[]; owed: bigint }[] = [];
  for (const [index, [account, token, cumulative]] of tree.entries() as Iterable<[number, [string, string, string]]>) {
    if (getAddress(account) !== me) continue;
    const already = await context.publicClient.readContract({
      address: distributor,
      abi: revenueDistributorAbi,
      functionName: "claimed",
      args: [me, getAddress(token)],
    });
    const owed = BigInt(cumulative) - already;
    if (owed > 0n)
      claims.push({
        token: getAddress(token),
        cumulative: BigInt(cumulative),
        proof: tree.getProof(index) as Hex[],
        owed,
      });
  }
  if (claims.length === 0) {
    output(context, `nothing to claim for ${me} in epoch ${report.epoch}'s root`, { claimed: [] });
    return;
  }
  const { decimals, symbol } = context.token;
  const describe = (c: (typeof claims)[number]) =>
    c.token === tmai ? `${formatTokens(c.owed, decimals, 4)} ${symbol}` : `${c.owed} base units of ${c.token}`;
  console.error(
    `Claim ${claims.map(describe).join(" and ")}${relock ? ` (${symbol} re-locked into your veTMAI lock)` : ""}.`,
  );
  await confirm(context, "Send?");
  for (const c of claims) {
    if (relock && c.token === tmai) {
      await send(context, {
        label: "claimAndLock",
        address: distributor,
        abi: revenueDistributorAbi,
        functionName: "claimAndLock",
        args: [c.cumulative, c.proof],
      });
    } else {
      await send(context, {
        label: "claim",
        address: distributor,
        abi: revenueDistributorAbi,
        functionName: "claim",
        args: [me, c.token, c.cumulative, c.proof],
      });
    }
  }
  output(context, `claimed ${claims.map(describe).join(" and ")}`, {
    claimed: claims.map((c) => ({ token: c.token, amount: c.owed, relocked: relock && c.token === tmai })),
  });
}
