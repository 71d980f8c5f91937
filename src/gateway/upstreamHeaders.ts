import type { IncomingHttpHeaders } from "node:http";

/**
 * The client headers the upstream receives: an allow-list of what describes the request's content and the answer
 * wanted. Everything else stays at the gateway — credentials (`x-api-key`, `authorization`, `cookie`), forwarding
 * claims (`x-forwarded-*`, `forwarded`), method overrides, any client `x-tmai-*` and hop-by-hop headers.
 */
const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "content-encoding",
  "content-type",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "range",
  "traceparent",
  "tracestate",
  "user-agent",
] as const;

/** Hop-by-hop headers (RFC 9110 §7.6.1), never passed on in either direction, nor any the Connection header names. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/**
 * The upstream request's headers: the allowed client headers, then the gateway's own `x-tmai-*` (set last, so no
 * client value survives). `proxied` are the headers as the proxy prepared them (it sets `host` to the upstream's
 * and `content-length` to the body's).
 */
export function upstreamRequestHeaders(
  proxied: IncomingHttpHeaders,
  gateway: Record<string, string>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = proxied[name];
    if (value !== undefined) headers[name] = value;
  }
  for (const name of ["host", "content-length"] as const) {
    const value = proxied[name];
    if (value !== undefined) headers[name] = value;
  }
  return Object.assign(headers, gateway);
}

/**
 * The upstream answer's headers as the client receives them: without hop-by-hop headers (and those its Connection
 * header names), and without any `x-tmai-*` or `ratelimit*` header, which only the gateway may set.
 */
export function clientResponseHeaders(upstream: Record<string, unknown>): Record<string, unknown> {
  const named = String(upstream.connection ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(upstream)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.includes(lower) || lower.startsWith("x-tmai-") || lower.startsWith("ratelimit"))
      continue;
    headers[name] = value;
  }
  return headers;
}
