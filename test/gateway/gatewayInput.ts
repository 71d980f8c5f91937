import { connect } from "node:net";
import { expect } from "chai";
import { startGatewayHarness } from "./helpers/gatewayHarness.ts";
import { prng } from "./helpers/prng.ts";

/** Sends raw bytes to the gateway and returns the status code of the answer (0 when the connection is cut). */
async function rawRequest(base: string, bytes: Buffer | string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
    });
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on("error", () => undefined);
  });
}

describe("gateway input handling over HTTP (key lifecycle, malformed input)", function () {
  this.timeout(60_000);

  it("shows a key once, rotates with a grace period, expires and revokes keys at once", async () => {
    const h = await startGatewayHarness();
    try {
      const user = await h.signIn();
      const created = await h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "🔑 ключ", signed: true } });
      expect(created.status).to.equal(201);
      const { key, secret, id } = created.body;
      expect(key).to.match(/^tmai_[A-Za-z0-9_-]{32}$/);
      const listed = await h.call("GET", "/v1/keys", { headers: user.auth });
      expect(listed.body.keys[0]).to.deep.include({ id, name: "🔑 ключ", prefix: key.slice(0, 13), signed: true });
      for (const hidden of [key, secret]) expect(listed.text).to.not.include(hidden);
      expect(listed.text).to.not.match(/hash|secret/);

      const plain = await h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "ci" } });
      const rotated = await h.call("POST", `/v1/keys/${plain.body.id}/rotate`, {
        headers: user.auth,
        body: { graceSeconds: 60 },
      });
      expect(rotated.status).to.equal(201);
      expect(rotated.body).to.deep.include({ name: "ci", signed: false });
      const use = (k: string) => h.call("GET", "/v1/me", { headers: { "x-api-key": k } });
      expect((await use(plain.body.key)).status).to.equal(200, "the old key works during the grace period");
      expect((await use(rotated.body.key)).status).to.equal(200);
      h.clock.ms += 60_000;
      const old = await use(plain.body.key);
      expect(old.status).to.equal(401);
      expect(old.body.type).to.match(/key-expired$/);
      expect((await use(rotated.body.key)).status).to.equal(200);

      const nowSeconds = Math.floor(h.clock.ms / 1000);
      const past = await h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "x", expiresAt: nowSeconds } });
      expect(past.status).to.equal(400);
      expect(past.body.detail).to.include("expiresAt must be in the future");
      const shortLived = await h.call("POST", "/v1/keys", {
        headers: user.auth,
        body: { name: "temp", expiresAt: nowSeconds + 10 },
      });
      expect((await use(shortLived.body.key)).status).to.equal(200);
      h.clock.ms += 10_000;
      expect((await use(shortLived.body.key)).body.type).to.match(/key-expired$/);

      expect((await h.call("DELETE", `/v1/keys/${rotated.body.id}`, { headers: user.auth })).status).to.equal(204);
      expect((await use(rotated.body.key)).body.type).to.match(/key-revoked$/);
      expect((await h.call("DELETE", `/v1/keys/${rotated.body.id}`, { headers: user.auth })).status).to.equal(404);
      // Another wallet cannot touch these keys.
      const other = await h.signIn();
      expect((await h.call("DELETE", `/v1/keys/${id}`, { headers: other.auth })).status).to.equal(404);
      expect((await h.call("POST", `/v1/keys/${id}/rotate`, { headers: other.auth, body: {} })).status).to.equal(404);
      expect((await h.call("GET", "/v1/keys", { headers: other.auth })).body.keys).to.deep.equal([]);
    } finally {
      await h.close();
    }
  });

  it("answers malformed input of every kind with a 4xx problem, never a 5xx", async () => {
    const h = await startGatewayHarness();
    try {
      const { key, auth } = await h.newKey({ name: "k" });
      const signed = await h.newKey({ name: "s", signed: true });
      const cases: [string, () => Promise<{ status: number }>, number][] = [
        ["bad JSON", () => h.call("POST", "/v1/auth/verify", { body: "{not json" }), 400],
        ["JSON array", () => h.call("POST", "/v1/auth/verify", { body: "[1,2]" }), 400],
        ["JSON null", () => h.call("POST", "/v1/keys", { headers: auth, body: "null" }), 400],
        ["unknown field", () => h.call("POST", "/v1/keys", { headers: auth, body: { name: "a", admin: true } }), 400],
        ["name too long", () => h.call("POST", "/v1/keys", { headers: auth, body: { name: "x".repeat(65) } }), 400],
        [
          "scopes not strings",
          () => h.call("POST", "/v1/keys", { headers: auth, body: { name: "a", scopes: [1] } }),
          400,
        ],
        [
          "text, not JSON",
          () => h.call("POST", "/v1/keys", { headers: { ...auth, "content-type": "text/plain" }, body: "name=a" }),
          415,
        ],
        [
          "XML",
          () =>
            h.call("POST", "/v1/keys", {
              headers: { ...auth, "content-type": "application/xml" },
              body: "<name>a</name>",
            }),
          415,
        ],
        [
          "unicode message",
          () => h.call("POST", "/v1/auth/verify", { body: { message: "héllo 🌍\u0000", signature: "0x12" } }),
          401,
        ],
        [
          "non-hex signature",
          () => h.call("POST", "/v1/auth/verify", { body: { message: "hi", signature: "zz" } }),
          401,
        ],
        [
          "grace too long",
          () => h.call("POST", "/v1/keys/x/rotate", { headers: auth, body: { graceSeconds: 1e9 } }),
          400,
        ],
        ["bad date", () => h.call("GET", "/v1/usage?from=31-12-2026", { headers: auth }), 400],
        ["extra query", () => h.call("GET", "/v1/usage?admin=1", { headers: auth }), 400],
        ["odd key id", () => h.call("DELETE", "/v1/keys/'%3B%20DROP%20TABLE%20api_keys", { headers: auth }), 400],
        ["session as key", () => h.call("GET", "/v1/data/prices/TMAI", { headers: auth }), 401],
        ["key as session", () => h.call("GET", "/v1/keys", { headers: { authorization: `Bearer ${key}` } }), 401],
        ["empty key", () => h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": "" } }), 401],
        [
          "signed key, no signature",
          () => h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": signed.key } }),
          401,
        ],
        [
          "signed key, junk headers",
          () =>
            h.call("GET", "/v1/data/prices/TMAI", {
              headers: {
                "x-api-key": signed.key,
                "x-tmai-timestamp": "-1e9",
                "x-tmai-nonce": "n".repeat(500),
                "x-tmai-signature": "zz",
              },
            }),
          401,
        ],
        ["unknown data route", () => h.call("GET", "/v1/nothing", { headers: { "x-api-key": key } }), 404],
        ["upstream 404", () => h.call("GET", "/v1/data/prices/NOPE", { headers: { "x-api-key": key } }), 404],
      ];
      for (const [name, attempt, expected] of cases) {
        const { status } = await attempt();
        expect(status, name).to.equal(expected);
      }

      // Below the HTTP parser: raw bytes the fetch API would refuse to send.
      const raw: [string, string | Buffer, number][] = [
        [
          "non-ASCII header value",
          Buffer.from("GET /v1/me HTTP/1.1\r\nHost: x\r\nx-api-key: tmai_\xff\xfe\r\n\r\n", "latin1"),
          401,
        ],
        ["duplicate keys", `GET /v1/me HTTP/1.1\r\nHost: x\r\nx-api-key: ${key}\r\nx-api-key: ${key}\r\n\r\n`, 401],
        ["header too large", `GET /v1/me HTTP/1.1\r\nHost: x\r\nx-api-key: ${"a".repeat(20_000)}\r\n\r\n`, 431],
        ["bad request line", "GARBAGE\r\n\r\n", 400],
        [
          "huge body",
          `POST /v1/auth/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n${"x".repeat(70_000)}`,
          413,
        ],
        [
          "lying content-length",
          "POST /v1/auth/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{}",
          400,
        ],
      ];
      for (const [name, bytes, expected] of raw) expect(await rawRequest(h.base, bytes), name).to.equal(expected);

      // Random requests from a seeded generator: whatever they are, never a 5xx.
      const random = prng(20261122);
      const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
      const alphabet = ["a", "0", "/", "?", "=", "&", "%20", "é", "🌍", "%00", "..", "{", '"', "\\", "tmai_"];
      const text = (n: number) => Array.from({ length: Math.floor(random() * n) }, () => pick(alphabet)).join("");
      for (let i = 0; i < 200; i++) {
        const method = pick(["GET", "POST", "DELETE", "PUT", "PATCH"]);
        const path =
          pick(["/v1/me", "/v1/keys", "/v1/keys/", "/v1/usage", "/v1/data/", "/v1/auth/verify"]) + encodeURI(text(12));
        const headers: Record<string, string> = pick<Record<string, string>>([
          {},
          auth,
          { "x-api-key": key },
          { "x-api-key": `tmai_${encodeURIComponent(text(8))}` },
        ]);
        const body =
          method === "GET" || method === "DELETE" ? undefined : pick([text(30), "{}", '{"name":1}', "[]", "0"]);
        const { status } = await h.call(method, path, { headers, ...(body === undefined ? {} : { body }) });
        expect(status, `${method} ${path} ${body}`).to.be.within(200, 499);
      }
    } finally {
      await h.close();
    }
  });
});
