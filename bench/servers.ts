/**
 * One server of the gateway benchmark, in a process of its own (started by bench/gateway.ts):
 *   upstream  the example data API;
 *   proxy     the baseline: a bare Fastify proxy (@fastify/reply-from, same pool settings), no auth, no metering;
 *   gateway   the access gateway, configured from the environment like `npm run gateway`.
 * Prints `listening <url>` once it accepts connections.
 */
import replyFrom from "@fastify/reply-from";
import Fastify from "fastify";
import pino from "pino";
import { gatewayConfigFrom } from "../src/gateway/config.ts";
import { createExampleDataApi } from "../src/gateway/exampleDataApi.ts";
import { createGatewayLogger, LOG_DESTINATION } from "../src/gateway/logger.ts";
import { startGateway } from "../src/gateway/startGateway.ts";

const kind = process.argv[2];
let url: string;
if (kind === "upstream") {
  url = await (await createExampleDataApi()).listen({ host: "127.0.0.1", port: 0 });
} else if (kind === "proxy") {
  const app = Fastify({ logger: false });
  await app.register(replyFrom, {
    base: process.env.TMAI_UPSTREAM as string,
    undici: { connections: 128, pipelining: 1 },
    disableRequestLogging: true,
  });
  app.all("/v1/data/*", (request, reply) => reply.from(request.url.slice("/v1/data".length)));
  url = await app.listen({ host: "127.0.0.1", port: 0 });
} else if (kind === "gateway") {
  const config = gatewayConfigFrom(process.env);
  // Logs are written as in production (JSON lines at the configured level), to /dev/null.
  const logger = createGatewayLogger({
    level: config.TMAI_LOG_LEVEL,
    destination: pino.destination({ ...LOG_DESTINATION, dest: "/dev/null" }),
  });
  url = (await startGateway(config, logger)).url;
} else {
  throw new Error(`unknown server kind ${kind}: upstream, proxy or gateway`);
}
console.log(`listening ${url}`);
// Exit normally on SIGTERM, so a CPU profile (--cpu-prof) is written.
process.once("SIGTERM", () => process.exit(0));
process.once("SIGINT", () => process.exit(0));
