import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitForRpc } from "../../src/demo/waitForRpc.ts";

export interface LocalStack {
  rpcUrl: string;
  /** The access gateway, on the RPC port + 1 (the example data API on + 2). */
  gatewayUrl: string;
  /** Everything the stack printed so far. */
  output: () => string;
  /** Sends Ctrl-C and resolves with the exit code. */
  stop: () => Promise<number | null>;
}

/** Runs `scripts/stack.ts` (what `npm start` runs) on `port` and resolves once it says it is ready. */
export async function startLocalStack(port: number): Promise<LocalStack> {
  const rpcUrl = `http://127.0.0.1:${port}`;
  if (
    await waitForRpc(rpcUrl, 300).then(
      () => true,
      () => false,
    )
  )
    throw new Error(`port ${port} is already in use`);
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL("../../scripts/stack.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        TMAI_RPC_PORT: String(port),
        TMAI_GATEWAY_PORT: String(port + 1),
        TMAI_EXAMPLE_API_PORT: String(port + 2),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 170_000;
  while (!text.includes("Local stack ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGINT");
      throw new Error(`the local stack did not start:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    rpcUrl,
    gatewayUrl: `http://127.0.0.1:${port + 1}`,
    output: () => text,
    stop: () => {
      child.kill("SIGINT");
      return exited;
    },
  };
}
