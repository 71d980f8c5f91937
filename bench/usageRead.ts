/**
 * `node bench/usageRead.ts` (Node ≥ 22.18): what one large `GET /v1/usage` read costs a gateway — the time of
 * `keyDays` over BENCH_KEYS keys (default 1,500) × BENCH_DAYS days (366), the event-loop delay while it runs
 * (`perf_hooks.monitorEventLoopDelay`, and the longest gap between the ticks of a 5 ms interval), and the latency
 * another wallet's `decide` sees meanwhile (one probe every 10 ms on the same store, as another user's request in the
 * same gateway process would; "failed" counts the probes that failed, e.g. by a command timeout).
 * Every key has one request on every day, written through `decide` (so the bench does not depend on the layout).
 * Environment: BENCH_STORE (`redis`, a private redis-server, or `sqlite`, a file), BENCH_KEYS, BENCH_DAYS,
 * BENCH_ROUNDS (3; every round is printed).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { PrivateRedis } from "../scripts/privateRedis.ts";
import { formatTable } from "../src/format/formatTable.ts";
import { RedisUsageStore } from "../src/gateway/RedisUsageStore.ts";
import { SqliteUsageStore } from "../src/gateway/SqliteUsageStore.ts";
import { dayOf, type UsageStore } from "../src/gateway/usageStore.ts";

const STORE = process.env.BENCH_STORE ?? "redis";
const KEYS = Number(process.env.BENCH_KEYS ?? 1_500);
const DAYS = Number(process.env.BENCH_DAYS ?? 366);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FIRST_DAY = Date.UTC(2027, 0, 1);
const plan = { name: "Unlimited", monthlyQuota: Number.MAX_SAFE_INTEGER, perMinute: Number.MAX_SAFE_INTEGER };
const keyIds = Array.from({ length: KEYS }, (_, i) => `key${i}`);
const ms = (ns: number) => (ns / 1e6).toFixed(1);

const redis = STORE === "redis" ? await PrivateRedis.start() : undefined;
const store: UsageStore =
  redis === undefined
    ? new SqliteUsageStore(path.join(mkdtempSync(path.join(tmpdir(), "bench-usage-")), "usage.sqlite"))
    : new RedisUsageStore(redis.url, "bench:");
try {
  if (store instanceof RedisUsageStore) await store.connect();
  const seeding = performance.now();
  // Bound: DAYS × KEYS decisions, 5,000 in flight at a time.
  const writes = keyIds.flatMap((keyId) => Array.from({ length: DAYS }, (_, day) => ({ keyId, day })));
  for (let i = 0; i < writes.length; i += 5_000) {
    await Promise.all(
      writes
        .slice(i, i + 5_000)
        .map(({ keyId, day }) => store.decide("0xbench", keyId, plan, 1, FIRST_DAY + day * 86_400_000)),
    );
  }
  console.log(`${STORE}: seeded ${KEYS} keys × ${DAYS} days in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

  const from = dayOf(FIRST_DAY);
  const to = dayOf(FIRST_DAY + (DAYS - 1) * 86_400_000);
  const rows: string[][] = [
    [
      "round",
      "keyDays ms",
      "loop delay max ms",
      "loop delay p99 ms",
      "longest 5 ms tick ms",
      "probes",
      "failed",
      "probe max ms",
      "probe p99 ms",
    ],
  ];
  const lag = monitorEventLoopDelay({ resolution: 5 });
  for (let round = 1; round <= ROUNDS; round++) {
    lag.reset();
    const probes: number[] = [];
    let failed = 0;
    let probing = true;
    const probe = (async () => {
      // Bound: one probe every 10 ms while the read runs.
      while (probing) {
        const start = performance.now();
        await store.decide("0xother", "other", plan, 1, Date.now()).catch(() => failed++);
        probes.push(performance.now() - start);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    lag.enable();
    // The commands of a failed round that were already sent still get their answers: let them drain.
    await new Promise((resolve) => setTimeout(resolve, 50));
    lag.reset();
    // The first sample after a reset only sets the histogram's starting point: take it before the read.
    await new Promise((resolve) => setTimeout(resolve, 20));
    let lastTick = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const tick = performance.now();
      longestGap = Math.max(longestGap, tick - lastTick);
      lastTick = tick;
    }, 5);
    const start = performance.now();
    const days = await store.keyDays(keyIds, from, to).catch((error: Error) => error);
    const took = performance.now() - start;
    // A read that never yields has no tick inside it: the gap then runs to its end.
    longestGap = Math.max(longestGap, performance.now() - lastTick);
    lag.disable();
    clearInterval(ticker);
    probing = false;
    await probe;
    if (days instanceof Error) console.log(`round ${round}: keyDays failed after ${took.toFixed(0)} ms: ${days}`);
    else if (days.length !== KEYS * DAYS || days.some((day) => day.requests !== 1))
      throw new Error(`keyDays returned ${days.length} rows, expected ${KEYS * DAYS} with one request each`);
    probes.sort((a, b) => a - b);
    rows.push([
      String(round),
      days instanceof Error ? `failed after ${took.toFixed(0)}` : took.toFixed(0),
      ms(lag.max),
      ms(lag.percentile(99)),
      longestGap.toFixed(1),
      String(probes.length),
      String(failed),
      (probes.at(-1) ?? 0).toFixed(1),
      (probes[Math.floor(probes.length * 0.99)] ?? 0).toFixed(1),
    ]);
  }
  console.log(formatTable(rows));
} finally {
  await store.close();
  await redis?.stop();
}
