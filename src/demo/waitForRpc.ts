/** Resolves once a JSON-RPC server answers `eth_chainId` at `url`, or rejects after `timeoutMs`. */
export async function waitForRpc(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(Math.max(100, Math.min(2_000, deadline - Date.now()))),
      });
      const { result } = (await response.json()) as { result?: string };
      if (result !== undefined) return Number(result);
    } catch {
      // not up yet
    }
    if (Date.now() >= deadline) throw new Error(`no JSON-RPC server answered at ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
