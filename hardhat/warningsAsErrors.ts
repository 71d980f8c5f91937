import type { HardhatPlugin } from "hardhat/types/plugins";

/**
 * Fails every Solidity build on a compiler warning in the project's own sources (contracts and
 * Solidity tests), as `-Werror` does for C: a warning left alone today is a bug report tomorrow.
 * Warnings from dependencies (OpenZeppelin) are left as they are.
 */
const warningsAsErrors: HardhatPlugin = {
  id: "vetmai-warnings-as-errors",
  hookHandlers: {
    solidity: () => import("./warningsAsErrorsHooks.ts"),
  },
};

export default warningsAsErrors;
