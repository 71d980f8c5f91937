import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { type Address, createPublicClient, createTestClient, createWalletClient, http, parseUnits, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { revenueDistributorAbi, testTmaiAbi, votingEscrowAbi } from "../src/chain/abis.ts";
import { loadDeployment } from "../src/chain/deployments.ts";
import type { DistributionReport } from "../src/distribution/report.ts";
import { type LocalStack, startLocalStack } from "./helpers/localStack.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../bin/tmai.mjs", import.meta.url));
const MNEMONIC = "test test test test test test test test test test test junk";
const keyOf = (index: number) =>
  toHex(mnemonicToAccount(MNEMONIC, { addressIndex: index }).getHdKey().privateKey as Uint8Array);
const DAY = 86_400n;
const E18 = 10n ** 18n;

describe("revenue distribution end to end (tmai dao … and tmai claim against the local stack)", function () {
  this.timeout(240_000);
  let stack: LocalStack;
  let dir: string;

  async function tmai(args: string[], key?: string) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (key) env.TMAI_PRIVATE_KEY = key;
    else delete env.TMAI_PRIVATE_KEY;
    return run(process.execPath, [CLI, ...args, "--rpc", stack.rpcUrl], { env }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  }

  const clients = () => {
    const transport = http(stack.rpcUrl);
    return {
      publicClient: createPublicClient({ chain: hardhat, transport }),
      walletClient: createWalletClient({ chain: hardhat, transport }),
      testClient: createTestClient({ chain: hardhat, mode: "hardhat", transport }),
    };
  };
  const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

  before(async () => {
    stack = await startLocalStack(23_000 + (process.pid % 10_000));
    dir = mkdtempSync(path.join(tmpdir(), "vetmai-distribution-"));
  });
  after(async () => {
    await stack?.stop();
  });

  it("computes, verifies, proposes, accepts and pays an epoch; claim and claimAndLock; refuses bad input", async () => {
    const { publicClient, walletClient, testClient } = clients();
    const addresses = loadDeployment(31337);
    const token = addresses.token as Address;
    const [deployer] = await walletClient.getAddresses();
    if (deployer === undefined) throw new Error("no deployer");
    const write = async (request: Parameters<typeof walletClient.writeContract>[0]) =>
      publicClient.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });

    // `npm start` already ran epoch 1 (a demo day); its report is the previous one of epoch 2.
    const demoReport = /accepted; report (\S+)\.$/m.exec(stack.output())?.[1] as string;
    const demo = JSON.parse(readFileSync(demoReport, "utf8")) as DistributionReport;
    writeFileSync(path.join(dir, "epoch-1.json"), readFileSync(demoReport));

    // The DAO funds 1,000,000 TMAI more; epoch 2 covers the week after epoch 1.
    const funding = parseUnits("1000000", 18);
    await write({
      account: deployer,
      chain: hardhat,
      address: token,
      abi: testTmaiAbi,
      functionName: "mint",
      args: [deployer, funding],
    });
    await write({
      account: deployer,
      chain: hardhat,
      address: token,
      abi: testTmaiAbi,
      functionName: "approve",
      args: [addresses.revenueDistributor, funding],
    });
    await write({
      account: deployer,
      chain: hardhat,
      address: addresses.revenueDistributor,
      abi: revenueDistributorAbi,
      functionName: "fund",
      args: [token, funding],
    });
    const start = BigInt(Date.parse(demo.end) / 1000);
    const end = start + 7n * DAY;
    const inputFile = path.join(dir, "epoch-2.input.json");
    const reward = 100_000n * E18;
    writeFileSync(
      inputFile,
      JSON.stringify({
        epoch: 2,
        start: iso(start),
        end: iso(end),
        rewards: [{ token, amount: String(reward) }],
        previous: "epoch-1.json",
      }),
    );

    // Not over yet: refused, nothing written.
    const early = await tmai(["dao", "compute", inputFile, "--out", dir]);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.include("compute it once it is over");
    await testClient.increaseTime({ seconds: Number(6n * DAY) });
    await testClient.mine({ blocks: 1 });

    const computed = await tmai(["dao", "compute", inputFile, "--out", dir, "--json"]);
    expect(computed.code, computed.stderr).to.equal(0);
    expect(computed.stderr).to.include("scanning blocks");
    const summary = JSON.parse(computed.stdout) as { file: string; root: string; reportHash: string };
    const reportText = readFileSync(summary.file, "utf8");
    const report = JSON.parse(reportText) as DistributionReport;
    expect(report.accounts.map((a) => a.account).length).to.equal(5);
    const paid = report.accounts.reduce((sum, a) => sum + BigInt(a.rewards[0]?.epochAmount ?? "0"), 0n);
    expect(paid).to.equal(reward, "the shares sum exactly to the reward");
    expect(readFileSync(summary.file.replace(/\.json$/, ".csv"), "utf8").split("\n")[0]).to.equal(
      "account,token,epochAmount,cumulative,balanceSeconds,share",
    );

    // Deterministic: a second run writes the same bytes.
    expect((await tmai(["dao", "compute", inputFile, "--out", dir])).code).to.equal(0);
    expect(readFileSync(summary.file, "utf8")).to.equal(reportText);

    // Anyone re-derives it from the chain; a tampered copy fails and names the account.
    const verified = await tmai(["dao", "verify", summary.file]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include(`verified: epoch 2, root ${summary.root}`);
    const tampered = JSON.parse(reportText) as DistributionReport;
    const victim = tampered.accounts[0] as DistributionReport["accounts"][number];
    (victim.rewards[0] as { cumulative: string }).cumulative = "1";
    const tamperedFile = path.join(dir, "epoch-2-tampered.json");
    writeFileSync(tamperedFile, `${JSON.stringify(tampered, null, 2)}\n`);
    const refused = await tmai(["dao", "verify", tamperedFile]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("the report does not match the chain");
    expect(refused.stderr).to.include(victim.account);

    // Propose (only a root proposer may), print the calldata for a multisig, accept after the delay.
    const notProposer = await tmai(["dao", "propose", summary.file, "--yes"], keyOf(9));
    expect(notProposer.stderr).to.include("may not propose roots");
    const calldata = JSON.parse((await tmai(["dao", "propose", summary.file, "--calldata", "--json"])).stdout);
    expect(calldata.to).to.equal(addresses.revenueDistributor);
    expect(calldata.data.startsWith("0x")).to.equal(true);
    const proposed = await tmai(["dao", "propose", summary.file, "--yes"], keyOf(0));
    expect(proposed.code, proposed.stderr).to.equal(0);
    await testClient.increaseTime({ seconds: Number(2n * DAY) });
    await testClient.mine({ blocks: 1 });
    await write({
      account: deployer,
      chain: hardhat,
      address: addresses.revenueDistributor,
      abi: revenueDistributorAbi,
      functionName: "acceptRoot",
    });

    // Account 2 (level 2) claims to its wallet; account 4 (level 8) re-locks its TMAI.
    const level2 = mnemonicToAccount(MNEMONIC, { addressIndex: 2 }).address;
    const owed2 = BigInt(report.accounts.find((a) => a.account === level2)?.rewards[0]?.cumulative ?? "0");
    const before2 = await publicClient.readContract({
      address: token,
      abi: testTmaiAbi,
      functionName: "balanceOf",
      args: [level2],
    });
    const claimed = await tmai(["claim", "--report", summary.file, "--yes"], keyOf(2));
    expect(claimed.code, claimed.stderr).to.equal(0);
    const after2 = await publicClient.readContract({
      address: token,
      abi: testTmaiAbi,
      functionName: "balanceOf",
      args: [level2],
    });
    expect(after2 - before2).to.equal(owed2);
    expect((await tmai(["claim", "--report", summary.file, "--yes"], keyOf(2))).stdout).to.include("nothing to claim");

    const level8 = mnemonicToAccount(MNEMONIC, { addressIndex: 4 }).address;
    const owed8 = BigInt(report.accounts.find((a) => a.account === level8)?.rewards[0]?.cumulative ?? "0");
    const [lockedBefore] = await publicClient.readContract({
      address: addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "locked",
      args: [level8],
    });
    const relocked = await tmai(["claim", "--report", summary.file, "--relock", "--yes"], keyOf(4));
    expect(relocked.code, relocked.stderr).to.equal(0);
    expect(relocked.stderr).to.include("claimAndLock");
    const [lockedAfter] = await publicClient.readContract({
      address: addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "locked",
      args: [level8],
    });
    expect(lockedAfter - lockedBefore).to.equal(owed8);

    // Epoch 3: bad inputs are refused with the reason, and nothing is written.
    const epoch3 = (fields: object) => {
      const file = path.join(dir, `epoch-3.${Math.random().toString(36).slice(2)}.input.json`);
      writeFileSync(
        file,
        JSON.stringify({
          epoch: 3,
          start: iso(end),
          end: iso(end + DAY),
          rewards: [{ token, amount: "1000" }],
          previous: "epoch-2.json",
          ...fields,
        }),
      );
      return file;
    };
    const cases: [object, string][] = [
      [{ start: iso(end - DAY) }, "epochs must not overlap"],
      [{ start: iso(end + 2n * DAY) }, "ends ("],
      [{ rewards: [{ token: "0x000000000000000000000000000000000000dEaD", amount: "1" }] }, "unknown reward token"],
      [{ rewards: [{ token, amount: 1000 }] }, "rewards.0.amount"],
      [{ previous: "epoch-2-tampered.json" }, "does not match the distributor's accepted root"],
      [{ previous: undefined }, "the distributor already has a root"],
    ];
    for (const [fields, message] of cases) {
      const result = await tmai(["dao", "compute", epoch3(fields), "--out", dir]);
      expect(result.code, JSON.stringify(fields)).to.equal(1);
      expect(result.stderr, JSON.stringify(fields)).to.include(message);
    }
    expect(() => readFileSync(path.join(dir, "epoch-3.json"))).to.throw();

    // An epoch promising more than was funded cannot be proposed.
    await testClient.increaseTime({ seconds: Number(2n * DAY) });
    await testClient.mine({ blocks: 1 });
    const greedy = await tmai([
      "dao",
      "compute",
      epoch3({ rewards: [{ token, amount: String(funding) }] }),
      "--out",
      dir,
    ]);
    expect(greedy.code, greedy.stderr).to.equal(0);
    const insolvent = await tmai(["dao", "propose", path.join(dir, "epoch-3.json"), "--yes"], keyOf(0));
    expect(insolvent.code).to.equal(1);
    expect(insolvent.stderr).to.include("the distributor is short of");
  });
});
