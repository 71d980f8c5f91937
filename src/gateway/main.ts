/**
 * `npm run gateway`: the access gateway as a server, configured from the environment (see the README's
 * "Running the gateway"). On SIGTERM or Ctrl-C it drains and stops (see `RunningGateway.shutdown`): exit code 0
 * when every request in flight finished, 1 when some had to be cut at the deadline; a second signal stops at once.
 */
import { GatewayConfigError, gatewayConfigFrom } from "./config.ts";
import { createGatewayLogger } from "./logger.ts";
import { SqliteFileInUseError } from "./SqliteUsageStore.ts";
import { startGateway } from "./startGateway.ts";

/** How long after the shutdown deadline the process exits whatever still runs (closing the stores, writing logs). */
const EXIT_GRACE_MS = 2_000;

/** The SQLite file, once the configuration is read (named when another gateway holds it). */
let database: string | undefined;
try {
  const config = gatewayConfigFrom(process.env);
  database = config.TMAI_GATEWAY_DB;
  const logger = createGatewayLogger({ level: config.TMAI_LOG_LEVEL });
  const gateway = await startGateway(config, logger);
  logger.info({ url: gateway.url, store: gateway.store.kind }, "gateway listening");
  // The log is written in 4 KiB blocks: write what is left before leaving.
  const exit = (code: number) => logger.flush(() => process.exit(code));
  let signalled = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (signalled) {
        logger.warn(`${signal} again: cutting the connections still open and stopping now`);
        void gateway.shutdown();
        return;
      }
      signalled = true;
      logger.info(
        { drainDelayMs: config.TMAI_DRAIN_DELAY_MS, timeoutMs: config.TMAI_SHUTDOWN_TIMEOUT_MS },
        `${signal}: draining (/readyz answers 503), then stopping; send it again to stop at once`,
      );
      setTimeout(() => {
        logger.error("stopping overran its deadline: exiting");
        exit(1);
      }, config.TMAI_SHUTDOWN_TIMEOUT_MS + EXIT_GRACE_MS).unref();
      gateway.shutdown().then(
        ({ forced }) => {
          if (forced) logger.warn("stopped: connections still open at the deadline were cut");
          else logger.info("stopped");
          exit(forced ? 1 : 0);
        },
        (error: Error) => {
          logger.error({ err: error }, "stopping failed");
          exit(1);
        },
      );
    });
  }
} catch (error) {
  const message =
    error instanceof GatewayConfigError
      ? error.message
      : error instanceof SqliteFileInUseError
        ? `gateway: ${database}: ${error.message}`
        : `gateway: ${(error as Error).message}`;
  console.error(message);
  process.exit(1);
}
