import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Whether process `pid` is stopped (state `T` in `/proc/<pid>/stat`); true where there is no `/proc`. */
function isStopped(pid: number): boolean {
  try {
    return /\) [Tt] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** How a private redis-server keeps its data. */
export interface PrivateRedisOptions {
  /**
   * `appendonly yes` with this `appendfsync` policy (the supported setting for the gateway's counters), or no AOF —
   * the default, with no RDB snapshots either (`--save ""`): a restart then starts empty.
   */
  appendfsync?: "always" | "everysec" | "no";
  /** Where the data files go (default: a new temporary directory); a restart on the same instance reuses it. */
  dir?: string;
  /** More `redis-server` arguments, e.g. `["--rename-command", "INFO", ""]` to play a managed Redis. */
  args?: string[];
}

/**
 * A private redis-server (the Debian binary) on its own port, to stop, stall and restart in outage tests without
 * touching the shared one.
 */
export class PrivateRedis {
  readonly port: number;
  readonly dir: string;
  readonly #options: PrivateRedisOptions;
  #process: ChildProcess | undefined;
  #stalled = false;

  private constructor(port: number, options: PrivateRedisOptions) {
    this.port = port;
    this.#options = options;
    this.dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "redis-"));
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options);
    await redis.resume();
    return redis;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and directory, and waits until it accepts connections (its data loaded). */
  async resume(): Promise<void> {
    const { appendfsync, args = [] } = this.#options;
    const persistence =
      appendfsync === undefined ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", appendfsync];
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", ...persistence, ...args],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    this.#process = child;
    this.#stalled = false;
    let output = "";
    child.stdout?.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      child.stdout?.on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("Ready to accept connections")) resolve();
      });
    });
    child.removeAllListeners("exit");
    // Keep reading its log, so a full pipe never blocks the server.
    child.stdout?.removeAllListeners("data");
    child.stdout?.resume();
  }

  /**
   * Stops the server: SIGKILL by default, as a crash would (nothing flushed); SIGTERM shuts it down cleanly (AOF
   * flushed and fsynced).
   */
  async stop(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(signal);
    if (this.#stalled) child.kill("SIGCONT");
    await exited;
    this.#process = undefined;
    this.#stalled = false;
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open and the kernel still accepts new ones, but nothing is
   * answered — a stalled Redis, not a disconnected one — until `wake`.
   */
  async stall(): Promise<void> {
    const child = this.#process;
    if (child?.pid === undefined) return;
    child.kill("SIGSTOP");
    this.#stalled = true;
    // The signal takes effect asynchronously: wait until the kernel shows the process stopped (Linux), 1 s at most.
    for (let i = 0; i < 100 && !isStopped(child.pid); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Lets a stalled server go on (SIGCONT): it answers what it was sent meanwhile. */
  wake(): void {
    this.#process?.kill("SIGCONT");
    this.#stalled = false;
  }
}
