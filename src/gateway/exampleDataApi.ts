import Fastify, { type FastifyInstance } from "fastify";

/**
 * AN EXAMPLE UPSTREAM, NOT THE REAL DATA API: a few deterministic JSON routes standing in for the vendor's data API
 * behind the gateway, for `npm start`, the tests and the benchmark. It trusts the `x-tmai-wallet` and
 * `x-tmai-tier` headers the gateway adds (so it must only be reachable through the gateway).
 */
export async function createExampleDataApi(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const caller = (headers: Record<string, unknown>) => ({
    wallet: headers["x-tmai-wallet"] ?? null,
    tier: headers["x-tmai-tier"] ?? null,
  });
  const symbols: Record<string, { price: string; change24h: string }> = {
    TMAI: { price: "0.0421", change24h: "3.8" },
    BTC: { price: "97120.50", change24h: "-1.2" },
    ETH: { price: "3650.12", change24h: "0.7" },
  };
  app.get<{ Params: { symbol: string } }>("/prices/:symbol", async (request, reply) => {
    const symbol = request.params.symbol.toUpperCase();
    const quote = symbols[symbol];
    if (!quote) return reply.code(404).send({ error: `no price for ${symbol}; try TMAI, BTC or ETH` });
    return { example: true, symbol, currency: "USD", ...quote, caller: caller(request.headers) };
  });
  app.get("/signals", async (request) => ({
    example: true,
    signals: [
      { symbol: "TMAI", grade: "A", outlook: "bullish" },
      { symbol: "ETH", grade: "B", outlook: "neutral" },
    ],
    caller: caller(request.headers),
  }));
  app.get("/research/reports", async (request) => ({
    example: true,
    reports: [{ id: "r-2026-11", title: "Token metrics, November 2026", pages: 42 }],
    caller: caller(request.headers),
  }));
  app.get("/whales", async (request) => ({
    example: true,
    whales: [{ address: "0x00000000000000000000000000000000000000aa", netFlow24h: "1250000" }],
    caller: caller(request.headers),
  }));
  app.post("/echo", async (request) => ({
    example: true,
    body: request.body ?? null,
    caller: caller(request.headers),
  }));
  return app;
}
