import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { expect } from "chai";
import {
  type Address,
  createPublicClient,
  createTestClient,
  formatUnits,
  http,
  type PublicClient,
  parseUnits,
} from "viem";
import { hardhat } from "viem/chains";
import { revenueDistributorAbi, stakingScoreAbi, votingEscrowAbi } from "../src/chain/abis.ts";
import { loadDeployment } from "../src/chain/deployments.ts";
import { veSlope } from "../src/chain/veBalance.ts";
import { waitForRpc } from "../src/demo/waitForRpc.ts";
import { type LocalStack, startLocalStack } from "./helpers/localStack.ts";

describe("npm start (the local stack)", function () {
  this.timeout(180_000);

  describe("once started", () => {
    let stack: LocalStack;
    let client: PublicClient;
    before(async () => {
      stack = await startLocalStack(20_000 + (process.pid % 10_000));
      client = createPublicClient({ chain: hardhat, transport: http(stack.rpcUrl) }) as PublicClient;
    });
    let stopped = false;
    after(async () => {
      // Stops it if a test failed before the last one did.
      if (!stopped) await stack?.stop();
    });
    const keysOf = () =>
      Object.fromEntries(
        [...stack.output().matchAll(/^level (\d+)\s+\w+\s+(tmai_\S+)$/gm)].map((m) => [Number(m[1]), m[2] as string]),
      );
    const walletsOf = () => [...stack.output().matchAll(/^level (\d+)\s+(0x[0-9a-fA-F]{40})/gm)];

    it("deploys the suite, seeds levels 0/2/5/8/10 and accepts a demo epoch whose report is on disk", async () => {
      expect(stack.output()).to.include(`Gateway        ${stack.gatewayUrl}`);
      expect(stack.output()).to.include(`RPC URL        ${stack.rpcUrl}`);
      const addresses = loadDeployment(31337);
      const wallets = walletsOf();
      expect(wallets.map((m) => Number(m[1]))).to.deep.equal([0, 2, 5, 8, 10]);
      for (const [, level, address] of wallets) {
        const onChain = await client.readContract({
          address: addresses.stakingScore,
          abi: stakingScoreAbi,
          functionName: "levelOf",
          args: [address as Address],
        });
        expect(onChain).to.equal(Number(level));
      }
      // The demo epoch is accepted on-chain and its report is on disk, ready for `tmai claim`.
      const reportFile = /accepted; report (\S+)\.$/m.exec(stack.output())?.[1] as string;
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as { root: string; accounts: unknown[] };
      const root = await client.readContract({
        address: addresses.revenueDistributor,
        abi: revenueDistributorAbi,
        functionName: "root",
      });
      expect(root).to.equal(report.root);
      expect(report.accounts).to.have.length(5);
    });

    it("answers the printed curl examples with the demo keys (tier, 403 below VIP, 429 on the 11th call)", async () => {
      const keys = keysOf();
      expect(Object.keys(keys).map(Number)).to.deep.equal([0, 2, 5, 8, 10]);
      const gateway = stack.gatewayUrl;
      expect(stack.output()).to.include(`curl -s ${gateway}/v1/me -H "x-api-key: ${keys[5]}"`);
      const me = await fetch(`${gateway}/v1/me`, { headers: { "x-api-key": keys[5] as string } });
      expect(await me.json()).to.deep.include({ level: 5, tier: "Premium", apiDiscountPercent: 20 });
      const whales = await fetch(`${gateway}/v1/data/whales`, { headers: { "x-api-key": keys[2] as string } });
      expect(whales.status).to.equal(403);
      expect(await whales.json()).to.deep.include({ requiredTier: "VIP", currentTier: "Advanced" });
      const vip = await fetch(`${gateway}/v1/data/whales`, { headers: { "x-api-key": keys[8] as string } });
      expect(vip.status).to.equal(200);
      expect(((await vip.json()) as { example: boolean }).example).to.equal(true);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const response = await fetch(`${gateway}/v1/data/prices/TMAI`, { headers: { "x-api-key": keys[0] as string } });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
      expect(statuses).to.deep.equal([...Array(10).fill(200), 429]);
    });

    it("leaves the chain on the wall clock, so /v1/me's veTMAI is balanceOf() within one second's decay", async () => {
      // The level-2 wallet's lock decays (100,000 TMAI for 26 weeks): a clock days apart shows as hundreds of veTMAI.
      const address = walletsOf().find((m) => m[1] === "2")?.[2] as Address;
      const key = keysOf()[2] as string;
      const { votingEscrow } = loadDeployment(31337);
      const [amount] = await client.readContract({
        address: votingEscrow,
        abi: votingEscrowAbi,
        functionName: "locked",
        args: [address],
      });
      // A block stamped now, then balanceOf() at that block and /v1/me at once.
      await createTestClient({ chain: hardhat, mode: "hardhat", transport: http(stack.rpcUrl) }).mine({ blocks: 1 });
      const block = await client.getBlock();
      const onChain = await client.readContract({
        address: votingEscrow,
        abi: votingEscrowAbi,
        functionName: "balanceOf",
        args: [address],
      });
      const me = (await (await fetch(`${stack.gatewayUrl}/v1/me`, { headers: { "x-api-key": key } })).json()) as {
        veTMAI: string;
      };
      const wallClock = BigInt(Math.floor(Date.now() / 1000));
      const gap = onChain - parseUnits(me.veTMAI, 18);
      // The chain's clock was set to the wall clock at a fraction of a second, so its next block may be stamped a
      // second either side of the gateway's second: at most one second's decay apart, either way.
      expect(gap >= -veSlope(amount) && gap <= veSlope(amount)).to.equal(
        true,
        `/v1/me says ${me.veTMAI} veTMAI, balanceOf() ${formatUnits(onChain, 18)} (one second's decay: ${formatUnits(veSlope(amount), 18)})`,
      );
      expect(Number(wallClock - block.timestamp)).to.be.within(-1, 1, "the chain's clock is the wall clock");
    });

    it("stops everything it started on Ctrl-C, with exit code 0", async () => {
      stopped = true;
      expect(await stack.stop()).to.equal(0);
      const stillUp = await waitForRpc(stack.rpcUrl, 1_000).then(
        () => true,
        () => false,
      );
      expect(stillUp).to.equal(false, "the node must stop with the stack");
    });
  });

  it("refuses to start when something already answers on the port, saying how to choose another", async () => {
    const squatter = createServer((_, response) => response.end('{"jsonrpc":"2.0","id":1,"result":"0x1"}'));
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      const failure = await promisify(execFile)(process.execPath, ["scripts/stack.ts"], {
        env: { ...process.env, TMAI_RPC_PORT: String(port) },
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.include(`something already answers JSON-RPC on http://127.0.0.1:${port}`);
      expect(failure?.stderr).to.include("TMAI_RPC_PORT=");
    } finally {
      squatter.close();
    }
  });
});
