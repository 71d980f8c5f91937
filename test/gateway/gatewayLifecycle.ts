import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { generatePrivateKey } from "viem/accounts";
import { createKeyBySigningIn } from "../../src/demo/demoKeys.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";
import { type GatewayProcess, listeningUrl, serveChain, spawnGateway } from "./helpers/gatewayProcess.ts";
import { REDIS_URL } from "./helpers/redis.ts";

/** An upstream whose `/slow?ms=N` answers after N ms; `started` counts the requests it has received. */
async function slowUpstream() {
  const state = { started: 0 };
  const server: Server = createServer((request, response) => {
    state.started++;
    const ms = Number(new URL(request.url ?? "/", "http://x").searchParams.get("ms") ?? 0);
    setTimeout(() => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ slept: ms }));
    }, ms);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on right now (the gateway's SIWE domain must name its real port). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a new TCP connection to `url` is accepted. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("the gateway process (npm run gateway): startup and shutdown", function () {
  this.timeout(60_000);
  let chain: Awaited<ReturnType<typeof deployGatewayChain>>;
  let rpc: Awaited<ReturnType<typeof serveChain>>;
  let upstream: Awaited<ReturnType<typeof slowUpstream>>;
  const running: GatewayProcess[] = [];

  before(async () => {
    chain = await deployGatewayChain();
    rpc = await serveChain(chain);
    upstream = await slowUpstream();
  });
  afterEach(async () => {
    for (const gateway of running.splice(0)) {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill("SIGKILL");
      await gateway.exited;
    }
  });
  after(async () => {
    await upstream.close();
    await rpc.close();
  });

  const databaseFile = () => path.join(mkdtempSync(path.join(tmpdir(), "gateway-process-")), "gateway.sqlite");
  const start = (env: Record<string, string>) => {
    const gateway = spawnGateway(chain, rpc.url, { TMAI_UPSTREAM: upstream.url, ...env });
    running.push(gateway);
    return gateway;
  };

  /** A gateway on a port of its own with an API key for a fresh wallet (Basic: 10 requests a minute). */
  async function startWithKey(env: Record<string, string>) {
    const port = await freePort();
    const gateway = start({ TMAI_GATEWAY_DB: databaseFile(), TMAI_GATEWAY_PORT: String(port), ...env });
    const url = await listeningUrl(gateway);
    const { key } = await createKeyBySigningIn(url, generatePrivateKey(), chain.chainId, "shutdown");
    return { gateway, url, key };
  }

  it("refuses a second gateway on the same SQLite file, naming the file and what to do, with exit code 1", async () => {
    const file = databaseFile();
    await listeningUrl(start({ TMAI_GATEWAY_DB: file }));
    const second = start({ TMAI_GATEWAY_DB: file });
    const { code } = await second.exited;
    expect(code).to.equal(1);
    expect(second.output()).to.include(`gateway: ${file}: another gateway already uses this database file`);
    expect(second.output()).to.include("TMAI_REDIS_URL");
    expect(second.output()).not.to.include("database is locked");
  });

  it("refuses a gateway using Redis on a SQLite file held by one without, saying how to share it", async () => {
    const file = databaseFile();
    await listeningUrl(start({ TMAI_GATEWAY_DB: file }));
    const second = start({ TMAI_GATEWAY_DB: file, TMAI_REDIS_URL: REDIS_URL });
    const { code } = await second.exited;
    expect(code).to.equal(1);
    expect(second.output()).to.include(`gateway: ${file}: another gateway holds this database file for itself`);
    expect(second.output()).to.include("the same TMAI_REDIS_URL");
  });

  it("drains on SIGTERM: /readyz answers 503, a request in flight completes with 200, new connections are refused, exit 0", async () => {
    const { gateway, url, key } = await startWithKey({
      TMAI_DRAIN_DELAY_MS: "700",
      TMAI_SHUTDOWN_TIMEOUT_MS: "10000",
    });
    expect((await fetch(`${url}/readyz`)).status).to.equal(200);
    const inFlight = fetch(`${url}/v1/data/slow?ms=2000`, { headers: { "x-api-key": key } }).catch(
      (error: Error) => error,
    );
    await until(() => upstream.state.started > 0, "the upstream to receive the request");
    const signalled = Date.now();
    gateway.child.kill("SIGTERM");

    // The signal reaches the process asynchronously: ask until it has.
    let readyz = await fetch(`${url}/readyz`);
    while (readyz.status === 200 && Date.now() - signalled < 700) readyz = await fetch(`${url}/readyz`);
    expect(readyz.status).to.equal(503);
    expect(await readyz.json()).to.deep.include({ status: "draining" });
    expect(Date.now() - signalled).to.be.below(700, "/readyz turns 503 within the drain delay");
    expect((await fetch(`${url}/v1/data/slow?ms=0`, { headers: { "x-api-key": key } })).status).to.equal(
      200,
      "requests are still served during the drain delay",
    );

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, signalled + 1_000 - Date.now())));
    expect(await accepts(url)).to.equal(false, "no new connection once the drain delay is over");
    const response = await inFlight;
    if (response instanceof Error) throw response;
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ slept: 2000 });
    const { code, at } = await gateway.exited;
    expect(code).to.equal(0);
    expect(at - signalled).to.be.below(4_000);
    expect(gateway.output()).to.include('"msg":"stopped"');
  });

  it("cuts the requests still running at the shutdown deadline and exits 1 within it", async () => {
    const { gateway, url, key } = await startWithKey({
      TMAI_DRAIN_DELAY_MS: "100",
      TMAI_SHUTDOWN_TIMEOUT_MS: "1000",
    });
    const before = upstream.state.started;
    const stuck = fetch(`${url}/v1/data/slow?ms=8000`, { headers: { "x-api-key": key } }).then(
      (response) => response.status,
      () => "cut",
    );
    await until(() => upstream.state.started > before, "the upstream to receive the request");
    const signalled = Date.now();
    gateway.child.kill("SIGTERM");
    const { code, at } = await gateway.exited;
    expect(code).to.equal(1);
    expect(at - signalled).to.be.within(900, 2_500);
    expect(await stuck).to.equal("cut");
    expect(gateway.output()).to.include("connections still open at the deadline were cut");
  });

  it("stops at once on a second SIGTERM, without waiting out the drain delay", async () => {
    const { gateway, url } = await startWithKey({
      TMAI_DRAIN_DELAY_MS: "20000",
      TMAI_SHUTDOWN_TIMEOUT_MS: "30000",
    });
    const signalled = Date.now();
    gateway.child.kill("SIGTERM");
    while ((await fetch(`${url}/readyz`)).status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    gateway.child.kill("SIGTERM");
    const { at } = await gateway.exited;
    expect(at - signalled).to.be.below(3_000);
  });
});
