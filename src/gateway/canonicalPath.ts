/**
 * The one canonical form of a request's path, on which the gateway matches its route rules and which it forwards
 * to the upstream, so the route that is gated and charged is the route the upstream serves.
 *
 * The raw path is percent-decoded exactly once, `.` and `..` segments are resolved and repeated slashes merged.
 * Refused (400), because upstreams disagree on what they mean: a `\` or `;` in the raw path, an encoded `/`, `\` or
 * `%` (`%2F`, `%5C`, `%25` — the last is double encoding), an encoded NUL or other control character, bytes that
 * are not UTF-8, a malformed escape (`%zz`, `%`), a `..` that climbs above the root, and segments that begin or end
 * with `..`. The query is checked (well-formed escapes, UTF-8, no control characters) and forwarded unchanged.
 */

/** Why a URL was refused, said so that the client can fix it. */
export class PathRefused extends Error {
  override name = "PathRefused";
}

export interface CanonicalUrl {
  /** The decoded path, `/`-separated segments with dot-segments resolved, e.g. `/v1/data/whales`. */
  path: string;
  /** The same path percent-encoded for the wire: what the upstream receives and decodes back to `path`. */
  encodedPath: string;
  /** `?…` exactly as sent (checked), or "". */
  query: string;
}

/** Characters allowed unencoded in a raw path: RFC 3986 `pchar` and `/`, without `;` (matrix parameters). */
const RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;
/** Characters allowed unencoded in a raw query: RFC 3986 query characters, plus `[` `]` (common in filters). */
const RAW_QUERY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]]*$/;
/** Characters a segment keeps unencoded on the wire; everything else is percent-encoded. */
const KEEP_IN_SEGMENT = /[A-Za-z0-9\-._~!$&'()*+,=:@]/;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const toUtf8 = new TextEncoder();
const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decodes `%XX` escapes once into UTF-8 text; undefined when an escape is malformed or the bytes are not UTF-8. */
function decodeOnce(text: string): string | undefined {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  // Loop bound: one pass over the text (at most the request line's length).
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(char); // the raw-character checks allow ASCII only
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** A segment that needs no encoding (the common case). */
const PLAIN_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,=:@]*$/;

function encodeSegment(segment: string): string {
  if (PLAIN_SEGMENT.test(segment)) return segment;
  let out = "";
  for (const char of segment) {
    if (KEEP_IN_SEGMENT.test(char)) out += char;
    else for (const byte of toUtf8.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Encoded characters that would mean different things to different servers. */
const FORBIDDEN_DECODED: [RegExp, string][] = [
  [/\//, "an encoded slash (%2F)"],
  [/\\/, "an encoded backslash (%5C)"],
  [/%/, "an encoded percent sign (%25: double encoding)"],
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  [/[\u0000-\u001f\u007f]/, "an encoded control character (such as %00)"],
];

/**
 * The canonical form of `rawUrl` (the request target as received, path and query), or a `PathRefused` error that
 * says what is wrong with it.
 */
export function canonicalUrl(rawUrl: string): CanonicalUrl {
  const queryAt = rawUrl.indexOf("?");
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt === -1 ? "" : rawUrl.slice(queryAt);
  if (!rawPath.startsWith("/")) throw new PathRefused("the path must start with /");
  if (!RAW_PATH.test(rawPath)) {
    const bad = [...rawPath].find((char) => !RAW_PATH.test(char)) ?? "";
    throw new PathRefused(
      bad === "\\"
        ? "the path contains a backslash (\\): use /"
        : bad === ";"
          ? "the path contains a semicolon (;): matrix parameters are not supported, put them in the query"
          : `the path contains ${JSON.stringify(bad)}: percent-encode it`,
    );
  }
  if (query !== "") {
    if (!RAW_QUERY.test(query.slice(1)))
      throw new PathRefused("the query contains a character that must be percent-encoded (a space, a quote, …)");
    const decoded = decodeOnce(query.slice(1).replaceAll("+", " "));
    if (decoded === undefined)
      throw new PathRefused("the query has a malformed percent-encoding (each % must start %XX of UTF-8 bytes)");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    if (/[\u0000-\u001f\u007f]/.test(decoded))
      throw new PathRefused("the query contains an encoded control character (such as %00)");
  }

  const segments: string[] = [];
  const parts = rawPath.slice(1).split("/");
  // Loop bound: the number of `/` in the path.
  for (const [index, part] of parts.entries()) {
    const segment = decodeOnce(part);
    if (segment === undefined)
      throw new PathRefused("the path has a malformed percent-encoding (each % must start %XX of UTF-8 bytes)");
    for (const [pattern, what] of FORBIDDEN_DECODED)
      if (pattern.test(segment)) throw new PathRefused(`the path contains ${what}`);
    const last = index === parts.length - 1;
    if (segment === ".") {
      if (last) segments.push("");
    } else if (segment === "..") {
      if (segments.length === 0) throw new PathRefused("the path climbs above the root with ..");
      segments.pop();
      if (last) segments.push("");
    } else if (segment === "") {
      if (last) segments.push(""); // a trailing slash is kept; repeated slashes are merged
    } else {
      if (segment.startsWith("..") || segment.endsWith(".."))
        throw new PathRefused(`the path segment ${JSON.stringify(segment)} begins or ends with ..`);
      segments.push(segment);
    }
  }
  return {
    path: `/${segments.join("/")}`,
    encodedPath: `/${segments.map(encodeSegment).join("/")}`,
    query,
  };
}
