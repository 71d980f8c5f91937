import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { createPublicClient, custom, type EIP1193RequestFn, type PublicClient } from "viem";
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { createSiweMessage } from "viem/siwe";
import { createGateway, type GatewayOptions } from "../../../src/gateway/createGateway.ts";
import { createExampleDataApi } from "../../../src/gateway/exampleDataApi.ts";
import { createGatewayLogger } from "../../../src/gateway/logger.ts";
import { DEFAULT_PLANS, type PlansConfig } from "../../../src/gateway/plans.ts";
import { SiweAuth } from "../../../src/gateway/SiweAuth.ts";
import { deployGatewayChain } from "./gatewayFixture.ts";

/** The plans the HTTP tests use: the defaults plus one route per paid tier. */
export const TEST_PLANS: PlansConfig = {
  ...DEFAULT_PLANS,
  routes: [
    { prefix: "/v1/data/", minTier: 0, cost: 1 },
    { prefix: "/v1/data/signals", minTier: 1, cost: 1, scope: "signals" },
    { prefix: "/v1/data/research/", minTier: 2, cost: 5 },
    { prefix: "/v1/data/whales", minTier: 3, cost: 10 },
  ],
};

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are JSON of many shapes.
  body: any;
  text: string;
}

/** `call(method, path, {headers, body})` against `base`: a JSON body is sent as JSON, the answer parsed if it is JSON. */
export function jsonCaller(base: string) {
  return async (
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<CallResult> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  };
}

/**
 * A gateway over real HTTP in front of the example data API, on an in-process chain whose RPC can be switched off,
 * with its pino output captured in `logs()` and a clock the test moves (`clock.ms`).
 */
export async function startGatewayHarness(overrides: Partial<GatewayOptions> = {}) {
  let down = false;
  const chain = await deployGatewayChain(({ provider }) => {
    const request: EIP1193RequestFn = async (args) => {
      if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
      return provider.request(args as never) as never;
    };
    return createPublicClient({ chain: hardhat, transport: custom({ request }) }) as PublicClient;
  });
  const upstream = await createExampleDataApi();
  const upstreamUrl = await upstream.listen({ host: "127.0.0.1", port: 0 });
  let logText = "";
  const logger = createGatewayLogger({
    level: "debug",
    destination: new Writable({
      write(chunk, _encoding, done) {
        logText += chunk.toString();
        done();
      },
    }),
  });
  const clock = { ms: Number(await chain.connection.networkHelpers.time.latest()) * 1000 };
  const db = new DatabaseSync(":memory:");
  const gateway = await createGateway({
    db,
    tracker: chain.tracker,
    siwe: new SiweAuth({
      db,
      client: chain.client,
      domain: "127.0.0.1",
      origin: "http://127.0.0.1",
      chainId: chain.chainId,
    }),
    masterKey: randomBytes(32),
    plans: TEST_PLANS,
    upstream: upstreamUrl,
    now: () => clock.ms,
    logger,
    ...overrides,
  });
  const base = await gateway.listen({ host: "127.0.0.1", port: 0 });

  const call = jsonCaller(base);

  /** Signs in as `account` (a fresh EOA by default) and returns the session header. */
  async function signIn(account: LocalAccount = privateKeyToAccount(generatePrivateKey())) {
    const { body } = await call("GET", "/v1/auth/nonce");
    const message = createSiweMessage({
      address: account.address,
      domain: "127.0.0.1",
      uri: "http://127.0.0.1/v1/auth",
      version: "1",
      chainId: chain.chainId,
      nonce: body.nonce,
      issuedAt: new Date(clock.ms),
    });
    const signed = await call("POST", "/v1/auth/verify", {
      body: { message, signature: await account.signMessage({ message }) },
    });
    if (signed.status !== 200) throw new Error(`sign-in failed: ${signed.text}`);
    return {
      account,
      session: signed.body.session as string,
      auth: { authorization: `Bearer ${signed.body.session}` },
    };
  }

  /** Signs in and creates a key; returns the key and the session. */
  async function newKey(body: Record<string, unknown> = { name: "test" }, account?: LocalAccount) {
    const user = await signIn(account);
    const created = await call("POST", "/v1/keys", { headers: user.auth, body });
    if (created.status !== 201) throw new Error(`key creation failed: ${created.text}`);
    return { ...user, key: created.body.key as string, id: created.body.id as string, created: created.body };
  }

  return {
    ...chain,
    db,
    base,
    clock,
    call,
    signIn,
    newKey,
    logs: () => logText,
    setRpcDown: (value: boolean) => {
      down = value;
    },
    close: async () => {
      await gateway.close();
      await upstream.close();
    },
  };
}

export type GatewayHarness = Awaited<ReturnType<typeof startGatewayHarness>>;
