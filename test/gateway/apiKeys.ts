import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { ApiKeyStore } from "../../src/gateway/ApiKeyStore.ts";

const WALLET = "0xA11CE00000000000000000000000000000000001";
const T = 1_800_000_000;

describe("gateway API keys (SQLite)", () => {
  it("shows a key once, stores only its hash and prefix, lists without secrets, revokes at once", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "keys-")), "gateway.sqlite");
    const store = new ApiKeyStore(new DatabaseSync(file), randomBytes(32));
    const created = store.create(WALLET, { name: "laptop" }, T);
    expect(created.key).to.match(/^tmai_[A-Za-z0-9_-]{32}$/);
    expect(created.prefix).to.equal(created.key.slice(0, 13));
    const listed = store.list(WALLET);
    expect(listed).to.have.length(1);
    expect(JSON.stringify(listed)).to.not.include(created.key);
    expect(listed[0]).to.not.have.property("key");
    expect(readFileSync(file).includes(Buffer.from(created.key))).to.equal(false);

    const auth = store.authenticate(created.key, T + 1);
    expect(auth.ok && auth.key.wallet).to.equal(WALLET.toLowerCase());
    expect(store.authenticate(`${created.key}x`, T).ok).to.equal(false);
    const second = store.create(WALLET, { name: "server", scopes: ["data", "usage"] }, T);
    expect(store.list(WALLET)).to.have.length(2);
    expect(store.revoke(WALLET, created.id, T + 5)).to.equal(true);
    expect(store.authenticate(created.key, T + 5)).to.deep.equal({ ok: false, reason: "revoked" });
    expect(store.authenticate(second.key, T + 5).ok).to.equal(true);
    expect(store.revoke("0xB0B", second.id, T)).to.equal(false, "only the owner revokes");
  });

  it("rotates with a grace period, then the old key expires; expired keys are refused", () => {
    const store = new ApiKeyStore(new DatabaseSync(":memory:"), randomBytes(32));
    const old = store.create(WALLET, { name: "ci", scopes: ["data"], expiresAt: T + 86_400 * 30 }, T);
    const fresh = store.rotate(WALLET, old.id, 3_600, T + 10);
    expect(fresh?.name).to.equal("ci");
    expect(fresh?.expiresAt).to.equal(T + 86_400 * 30);
    expect(store.authenticate(old.key, T + 3_609).ok).to.equal(true, "old key works during the grace period");
    expect(store.authenticate(old.key, T + 3_610)).to.deep.equal({ ok: false, reason: "expired" });
    expect(store.authenticate(fresh?.key as string, T + 3_610).ok).to.equal(true);
    expect(store.rotate(WALLET, old.id, 60, T + 4_000)).to.equal(undefined);
    expect(store.authenticate(fresh?.key as string, T + 86_400 * 30)).to.deep.equal({ ok: false, reason: "expired" });
  });

  it("keeps a signed key's secret encrypted (AES-256-GCM) and readable only with the master key", () => {
    const db = new DatabaseSync(":memory:");
    const master = randomBytes(32);
    const store = new ApiKeyStore(db, master);
    const signed = store.create(WALLET, { name: "hmac", signed: true }, T);
    expect(signed.secret).to.be.a("string");
    const raw = db.prepare("SELECT secret FROM api_keys WHERE id = ?").get(signed.id) as { secret: string };
    expect(raw.secret).to.not.include(signed.secret as string);
    expect(store.secretOf(signed.id)).to.equal(signed.secret);
    expect(() => new ApiKeyStore(db, randomBytes(32)).secretOf(signed.id)).to.throw();
    expect(() => new ApiKeyStore(db, randomBytes(16))).to.throw(RangeError, "32 bytes");
  });
});
