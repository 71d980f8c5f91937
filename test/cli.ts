import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { createPublicClient, createTestClient, createWalletClient, http, parseUnits, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { testTmaiAbi } from "../src/chain/abis.ts";
import { deploymentFile, loadDeployment } from "../src/chain/deployments.ts";
import { floorToWeek, WEEK } from "../src/chain/veBalance.ts";
import { type LocalStack, startLocalStack } from "./helpers/localStack.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../bin/tmai.mjs", import.meta.url));
/** Hardhat's well-known test mnemonic; account 7 is not used by the demo wallets. */
const wallet = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: 7 });
const KEY = toHex(wallet.getHdKey().privateKey as Uint8Array);
const E18 = 10n ** 18n;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe("tmai (the wallet CLI) against the local stack", function () {
  this.timeout(180_000);
  let stack: LocalStack;

  /** Runs `tmai <args> --rpc <stack>` as a child process, without a terminal (so --yes is needed to send). */
  async function tmai(args: string[], env: Record<string, string> = { TMAI_PRIVATE_KEY: KEY }): Promise<CliResult> {
    const environment = { ...process.env, ...env };
    if (!("TMAI_PRIVATE_KEY" in env)) delete environment.TMAI_PRIVATE_KEY;
    return run(process.execPath, [CLI, ...args, "--rpc", stack.rpcUrl], { env: environment }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  }
  async function tmaiJson(args: string[]) {
    const result = await tmai([...args, "--json"]);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout);
  }
  const chainTime = async () =>
    (await createPublicClient({ chain: hardhat, transport: http(stack.rpcUrl) }).getBlock()).timestamp;

  before(async () => {
    stack = await startLocalStack(22_000 + (process.pid % 10_000));
    const transport = http(stack.rpcUrl);
    const walletClient = createWalletClient({ chain: hardhat, transport });
    const [deployer] = await walletClient.getAddresses();
    const { token } = loadDeployment(31337);
    if (deployer === undefined || token === undefined) throw new Error("the stack has no deployer or token");
    const hash = await walletClient.writeContract({
      account: deployer,
      address: token,
      abi: testTmaiAbi,
      functionName: "mint",
      args: [wallet.address, parseUnits("100000", 18)],
    });
    await createPublicClient({ chain: hardhat, transport }).waitForTransactionReceipt({ hash });
  });

  after(async () => {
    await stack?.stop();
  });

  it("status: reports a demo wallet, and says what to give when there is no address or signer", async () => {
    const demo = /^level 8\s+(0x[0-9a-fA-F]{40})/m.exec(stack.output())?.[1] as string;
    const report = await tmaiJson(["status", demo]);
    expect(report.level).to.equal(8);
    expect(report.tier).to.equal("VIP");
    expect(report.lock.amount).to.equal((2_500_000n * E18).toString());
    expect(BigInt(report.levelLostAt)).to.be.greaterThan(BigInt(report.chainTime));
    expect(BigInt(report.in90Days.veTMAI)).to.be.lessThan(BigInt(report.veTMAI));

    const text = await tmai(["status", demo]);
    expect(text.stdout).to.match(/Staking Score\s+level 8 \(VIP\)/);
    expect(text.stdout).to.match(/level lost on\s+\d{4}-\d{2}-\d{2} \(level 8 lost by decay\)/);

    const missing = await tmai(["status"], {});
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include("give an address (tmai status 0x…) or set TMAI_PRIVATE_KEY");
    const bad = await tmai(["status", "0x1234"]);
    expect(bad.stderr).to.include('"0x1234" is not an address');
  });

  it("lock: refuses bad input with what to do, and never takes a key on the command line", async () => {
    const cases: [string[], Record<string, string> | undefined, string][] = [
      [
        ["lock", "--amount", "1000", "--duration", "12mo", "--yes"],
        {},
        "no signer: put your private key in the environment variable TMAI_PRIVATE_KEY",
      ],
      [["lock", "--amount", "1000", "--duration", "12x", "--yes"], undefined, 'cannot read the duration "12x"'],
      [["lock", "--amount", "ten", "--duration", "12mo", "--yes"], undefined, 'cannot read the amount "ten"'],
      [["lock", "--amount", "1000", "--yes"], undefined, "give exactly one of --duration"],
      [["lock", "--amount", "1000", "--duration", "2y", "--yes"], undefined, "is more than 52 weeks ahead"],
      [["lock", "--amount", "1000", "--until", "2020-01-01", "--yes"], undefined, "which is not in the future"],
      [
        ["lock", "--amount", "1000000", "--duration", "52w", "--yes"],
        undefined,
        "you hold 100,000 TMAI; this needs 1,000,000 TMAI",
      ],
      [["lock", "--amount", "1000", "--duration", "52w"], undefined, "add --yes to confirm without a prompt"],
      [
        ["lock", "--amount", "1000", "--duration", "52w", "--yes"],
        { TMAI_PRIVATE_KEY: "0x1234" },
        "does not hold a private key",
      ],
    ];
    for (const [args, env, message] of cases) {
      const result = await tmai(args, env ?? { TMAI_PRIVATE_KEY: KEY });
      expect(result.code, args.join(" ")).to.equal(1);
      expect(result.stderr, args.join(" ")).to.include(message);
    }
    const unknownFlag = await tmai(["lock", "--amount", "1", "--duration", "1w", "--private-key", KEY]);
    expect(unknownFlag.code).to.equal(1);
    expect(unknownFlag.stderr).to.include("unknown option '--private-key'");
    // Nothing was sent.
    expect((await tmaiJson(["status", wallet.address])).lock.amount).to.equal("0");
  });

  it("lock → increase → extend → permanent on/off → withdraw, with the errors of each step", async () => {
    const now = await chainTime();
    const locked = await tmai(["lock", "--amount", "30000", "--duration", "26w", "--yes", "--json"]);
    expect(locked.code, locked.stderr).to.equal(0);
    expect(locked.stderr).to.match(/Lock 30,000 TMAI until \d{4}-\d{2}-\d{2}/);
    expect(locked.stderr).to.include("createLockWithPermit: sent");
    const afterLock = JSON.parse(locked.stdout);
    expect(afterLock.lock.amount).to.equal((30_000n * E18).toString());
    const end = BigInt(afterLock.lock.end);
    expect(end % WEEK).to.equal(0n);
    expect(end > now + 25n * WEEK && end <= now + 26n * WEEK + 60n).to.equal(true, "rounded down from 26 weeks ahead");
    expect(afterLock.level).to.equal(1);

    const again = await tmai(["lock", "--amount", "1", "--duration", "4w", "--yes"]);
    expect(again.stderr).to.include("you already have a lock of 30,000 TMAI until");

    const increased = await tmaiJson(["increase", "--amount", "20000", "--yes"]);
    expect(increased.lock.amount).to.equal((50_000n * E18).toString());
    const tooMuch = await tmai(["increase", "--amount", "60000", "--yes"]);
    expect(tooMuch.stderr).to.include("you hold 50,000 TMAI; this needs 60,000 TMAI");

    const notLater = await tmai(["extend", "--duration", "4w", "--yes"]);
    expect(notLater.stderr).to.include("is not later: choose a later date");
    const extended = await tmaiJson([
      "extend",
      "--until",
      new Date(Number(now + 51n * WEEK) * 1000).toISOString().slice(0, 10),
      "--yes",
    ]);
    expect(BigInt(extended.lock.end)).to.be.greaterThan(BigInt(afterLock.lock.end));

    const early = await tmai(["withdraw", "--yes"]);
    expect(early.stderr).to.match(/your lock ends on \d{4}-\d{2}-\d{2}: you can withdraw from then on/);

    const permanentOn = await tmaiJson(["permanent", "on", "--yes"]);
    expect(permanentOn.lock.permanent).to.equal(true);
    expect(permanentOn.veTMAI).to.equal((100_000n * E18).toString());
    expect(permanentOn.levelLostAt).to.equal(null);
    expect((await tmai(["extend", "--duration", "52w", "--yes"])).stderr).to.include("your lock is permanent");
    expect((await tmai(["withdraw", "--yes"])).stderr).to.include("run `tmai permanent off` first");
    expect((await tmai(["permanent", "on", "--yes"])).stderr).to.include("already permanent");
    expect((await tmai(["permanent", "maybe", "--yes"])).stderr).to.include(
      "`tmai permanent on` or `tmai permanent off`",
    );

    const permanentOff = await tmaiJson(["permanent", "off", "--yes"]);
    expect(permanentOff.lock.permanent).to.equal(false);
    expect(BigInt(permanentOff.lock.end)).to.equal(floorToWeek(BigInt(permanentOff.chainTime) + 52n * WEEK));
    expect((await tmai(["permanent", "off", "--yes"])).stderr).to.include("not permanent");

    // Past the end: the lock can only be withdrawn.
    const testClient = createTestClient({ chain: hardhat, mode: "hardhat", transport: http(stack.rpcUrl) });
    await testClient.increaseTime({ seconds: Number(53n * WEEK) });
    await testClient.mine({ blocks: 1 });
    const expired = await tmai(["increase", "--amount", "1", "--yes"]);
    expect(expired.stderr).to.match(/your lock expired on \d{4}-\d{2}-\d{2}: run `tmai withdraw` first/);
    const status = await tmai(["status"]);
    expect(status.stdout).to.include("expired: run `tmai withdraw`");

    const withdrawn = await tmaiJson(["withdraw", "--yes"]);
    expect(withdrawn.lock.amount).to.equal("0");
    expect(withdrawn.walletBalance).to.equal((100_000n * E18).toString());
    expect((await tmai(["withdraw", "--yes"])).stderr).to.include("you have no lock to withdraw");
    expect((await tmai(["increase", "--amount", "1", "--yes"])).stderr).to.include("you have no lock: create one");
  });

  it("prints errors as JSON with --json, and names an unreachable endpoint", async () => {
    const json = await tmai(["status", "--json"], {});
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout).error).to.include("give an address");
    const unreachable = await run(process.execPath, [
      CLI,
      "status",
      wallet.address,
      "--rpc",
      "http://127.0.0.1:9",
    ]).then(
      () => undefined,
      (error: { stderr: string }) => error.stderr,
    );
    expect(unreachable).to.include("cannot reach the JSON-RPC endpoint http://127.0.0.1:9");
    expect(readFileSync(deploymentFile(31337), "utf8")).to.include("VotingEscrow");
  });
});
