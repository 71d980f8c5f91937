import { isIPv6 } from "node:net";

export interface ClientLimiterParameters {
  /** Events allowed per client per window. */
  limit: number;
  windowSeconds: number;
  /** Clients remembered at once; the least recently seen are forgotten first (default 100,000). */
  maxClients?: number;
}

/**
 * Per-client fixed-window counters for the paths anyone can reach without credentials (sign-in nonces, sign-in
 * attempts, failed authentications), so no one address can fill the database or spend the RPC budget. Clients are
 * keyed by `clientKey` (an IPv6 client by its /64, the smallest block an ISP hands out); memory is bounded by
 * `maxClients` (least recently seen forgotten first — a forgotten client starts a fresh window, which is the only
 * leniency it gets).
 */
export class ClientLimiter {
  readonly #p: Required<ClientLimiterParameters>;
  readonly #windows = new Map<string, { window: number; count: number }>();

  constructor(parameters: ClientLimiterParameters) {
    this.#p = { maxClients: 100_000, ...parameters };
  }

  /**
   * Counts one event for `client` at `now` (Unix seconds). Returns 0 when it is within the limit, else the seconds
   * until the window resets (the event is then not counted).
   */
  hit(client: string, now: number): number {
    const window = Math.floor(now / this.#p.windowSeconds);
    const known = this.#windows.get(client);
    const count = known?.window === window ? known.count : 0;
    if (count >= this.#p.limit) return (window + 1) * this.#p.windowSeconds - now;
    this.#windows.delete(client);
    this.#windows.set(client, { window, count: count + 1 });
    if (this.#windows.size > this.#p.maxClients) this.#windows.delete(this.#windows.keys().next().value as string);
    return 0;
  }

  /** Clients remembered now (bounded by `maxClients`). */
  get size(): number {
    return this.#windows.size;
  }
}

/** The key a client is limited by: its IPv4 address, or the /64 network of an IPv6 address. */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === "" ? [] : tail.split(":");
  const groups = ip.includes("::")
    ? [...headParts, ...Array(8 - headParts.length - tailParts.length).fill("0"), ...tailParts]
    : headParts;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
