import { connect } from "node:net";
import Fastify from "fastify";

/** What the upstream received. */
export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A stand-in data API for the hardening tests: it records every request it receives and answers as told by
 * `behaviour` (a status, a delay, extra headers) — or not at all once closed.
 */
export async function startRecordingUpstream() {
  const received: Received[] = [];
  const behaviour: { status: number; delayMs: number; headers: Record<string, string> } = {
    status: 200,
    delayMs: 0,
    headers: {},
  };
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  app.all("/*", async (request, reply) => {
    received.push({
      method: request.method,
      url: request.url,
      headers: { ...request.headers },
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    });
    if (behaviour.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    for (const [name, value] of Object.entries(behaviour.headers)) reply.header(name, value);
    return reply.code(behaviour.status).send({ url: request.url });
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, received, behaviour, close: () => app.close() };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

/**
 * Sends one request with the exact bytes of `target` as its request target (no URL normalisation, unlike fetch),
 * and reads one answer. `closed` tells whether the server then closed the connection within `closeWaitMs` (by
 * default it is not waited for).
 */
export async function rawHttp(
  base: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body = "",
  closeWaitMs = 0,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let answer: Omit<RawAnswer, "closed"> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      if (answer) resolve({ ...answer, closed });
      else reject(new Error(`no complete answer to ${method} ${target}: ${data.toString("latin1")}`));
    };
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      if (split === -1 || answer) return;
      const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(parsed["content-length"] ?? Number.NaN);
      const rest = data.subarray(Buffer.byteLength(text.slice(0, split + 4), "latin1"));
      if (Number.isNaN(length) || rest.length < length) return; // chunked answers are not needed here
      answer = {
        status: Number(statusLine.split(" ")[1]),
        headers: parsed,
        body: rest.subarray(0, length).toString("utf8"),
      };
      if (closeWaitMs === 0) finish(false);
      else timer = setTimeout(() => finish(false), closeWaitMs);
    });
    socket.on("end", () => finish(true));
    socket.on("error", () => finish(true));
    const head = Object.entries({ host: `${hostname}:${port}`, ...headers })
      .map(([name, value]) => `${name}: ${value}`)
      .join("\r\n");
    const length = body === "" ? "" : `\r\ncontent-length: ${Buffer.byteLength(body)}`;
    socket.write(`${method} ${target} HTTP/1.1\r\n${head}${length}\r\n\r\n${body}`);
  });
}
