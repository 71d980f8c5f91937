import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { deploySuite } from "../suite.ts";

/**
 * The suite over an existing TMAI token (Base Sepolia, Base): parameters in `deploy/parameters/<network>.json`
 * under `Suite` — `token` (required), `timelockMinDelay`, `thresholds`.
 */
export default buildModule("Suite", (m) => deploySuite(m, m.getParameter<string>("token")));
