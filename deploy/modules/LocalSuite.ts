import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { deploySuite } from "../suite.ts";
import TestTMAIModule from "./TestTMAI.ts";

/** The suite over the test TMAI token, for local chains (`npm start`) and tests. */
export default buildModule("LocalSuite", (m) => {
  const { tmai } = m.useModule(TestTMAIModule);
  return { tmai, ...deploySuite(m, tmai) };
});
