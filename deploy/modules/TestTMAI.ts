import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** The stand-in TMAI token for local chains and testnets; the deployer owns it and may mint. */
export default buildModule("TestTMAI", (m) => {
  const tmai = m.contract("TestTMAI", [m.getAccount(0)]);
  return { tmai };
});
