import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { toHex } from "viem";
import type { deployGatewayChain } from "./gatewayFixture.ts";

const MAIN = fileURLToPath(new URL("../../../src/gateway/main.ts", import.meta.url));

type Chain = Awaited<ReturnType<typeof deployGatewayChain>>;

/** Serves an in-process Hardhat chain over JSON-RPC on HTTP, for gateways running in processes of their own. */
export async function serveChain(chain: Chain): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", async () => {
      const answer = async (call: { id: unknown; method: string; params?: unknown[] }) => {
        try {
          const result = await chain.connection.provider.request({ method: call.method, params: call.params ?? [] });
          return { jsonrpc: "2.0", id: call.id, result };
        } catch (error) {
          return { jsonrpc: "2.0", id: call.id, error: { code: -32000, message: (error as Error).message } };
        }
      };
      const parsed = JSON.parse(body);
      const reply = Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed);
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(reply, (_key, value) => (typeof value === "bigint" ? toHex(value) : value)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout (its JSON log lines) and stderr so far. */
  output: () => string;
  /** Resolves when it exits, with its code (null when killed by a signal) and when that was (ms since the epoch). */
  exited: Promise<{ code: number | null; at: number }>;
}

/** Runs `npm run gateway` (src/gateway/main.ts) with the chain at `rpcUrl` and `env` on top of a minimal config. */
export function spawnGateway(chain: Chain, rpcUrl: string, env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      TMAI_RPC_URL: rpcUrl,
      TMAI_VOTING_ESCROW: chain.ve.address,
      TMAI_STAKING_SCORE: chain.score.address,
      TMAI_MASTER_KEY: randomBytes(32).toString("base64"),
      TMAI_GATEWAY_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now() })),
  );
  return { child, output: () => text, exited };
}

/** Waits until the gateway logs that it listens, and returns its URL (it fails if the process exits first). */
export async function listeningUrl(gateway: GatewayProcess, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = /^.*"msg":"gateway listening".*$/m.exec(gateway.output())?.[0];
    if (line !== undefined) return (JSON.parse(line) as { url: string }).url;
    if (gateway.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the gateway did not start:\n${gateway.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
