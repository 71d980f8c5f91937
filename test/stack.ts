import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { type Address, createPublicClient, http } from "viem";
import { hardhat } from "viem/chains";
import { stakingScoreAbi } from "../src/chain/abis.ts";
import { loadDeployment } from "../src/chain/deployments.ts";
import { waitForRpc } from "../src/demo/waitForRpc.ts";

describe("npm start (the local stack)", function () {
  this.timeout(180_000);

  it("starts a node, deploys the suite, seeds levels 0/2/5/8/10, answers queries, and stops on Ctrl-C", async () => {
    const port = 20_000 + (process.pid % 10_000);
    const rpcUrl = `http://127.0.0.1:${port}`;
    const stack = spawn(process.execPath, [fileURLToPath(new URL("../scripts/stack.ts", import.meta.url))], {
      env: { ...process.env, TMAI_RPC_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    stack.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    stack.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => stack.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 170_000;
      while (!output.includes("Local stack ready")) {
        if (stack.exitCode !== null || Date.now() > deadline) throw new Error(`the stack did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(output).to.include(`RPC URL        ${rpcUrl}`);

      const addresses = loadDeployment(31337);
      const client = createPublicClient({ chain: hardhat, transport: http(rpcUrl) });
      const wallets = [...output.matchAll(/^level (\d+)\s+(0x[0-9a-fA-F]{40})/gm)];
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
    } finally {
      stack.kill("SIGINT");
    }
    expect(await exited).to.equal(0);
    let stillUp = true;
    await waitForRpc(rpcUrl, 1_000).catch(() => {
      stillUp = false;
    });
    expect(stillUp).to.equal(false, "the node must stop with the stack");
  });
});
