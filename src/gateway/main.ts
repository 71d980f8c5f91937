/**
 * `npm run gateway`: the access gateway as a server, configured from the environment (see the README's
 * "Running the gateway"). Stops cleanly on Ctrl-C / SIGTERM.
 */
import { GatewayConfigError, gatewayConfigFrom } from "./config.ts";
import { createGatewayLogger } from "./logger.ts";
import { startGateway } from "./startGateway.ts";

try {
  const config = gatewayConfigFrom(process.env);
  const logger = createGatewayLogger({ level: config.TMAI_LOG_LEVEL });
  const gateway = await startGateway(config, logger);
  logger.info({ url: gateway.url, store: gateway.store?.kind ?? "sqlite" }, "gateway listening");
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      logger.info(`${signal}: stopping`);
      gateway.close().then(
        () => {
          logger.info("stopped");
          // The log is written in 4 KiB blocks: write what is left before leaving.
          logger.flush(() => process.exit(0));
        },
        (error: Error) => {
          logger.error({ err: error }, "stopping failed");
          logger.flush(() => process.exit(1));
        },
      );
    });
  }
} catch (error) {
  console.error(error instanceof GatewayConfigError ? error.message : `gateway: ${(error as Error).message}`);
  process.exit(1);
}
