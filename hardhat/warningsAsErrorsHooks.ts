import type { SolidityHooks } from "hardhat/types/hooks";
import type { CompilerOutputError } from "hardhat/types/solidity";

/** solc reports where a diagnostic points; Hardhat's type leaves the field out. */
type LocatedError = CompilerOutputError & { sourceLocation?: { file: string } };

/** Warnings Hardhat itself introduces when it instruments code for `--coverage`. */
const INSTRUMENTATION_WARNINGS = ["Contract code size is", "Contract initcode size is"];

/**
 * solc warns on every use of transient storage (code 2394); OpenZeppelin's ReentrancyGuardTransient uses it
 * exactly as the warning says is safe (cleared at the end of the call), so that one is dropped.
 */
const TRANSIENT_STORAGE_WARNING = "2394";

export default async (): Promise<Partial<SolidityHooks>> => ({
  async invokeSolc(context, compiler, solcInput, solcConfig, next) {
    const output = await next(context, compiler, solcInput, solcConfig);
    const errors = (output.errors ?? []).flatMap((error: LocatedError) => {
      const file = error.sourceLocation?.file ?? "";
      if (error.errorCode === TRANSIENT_STORAGE_WARNING && file.includes("@openzeppelin/contracts")) return [];
      const ours = file.startsWith("project/");
      const instrumentation = INSTRUMENTATION_WARNINGS.some((text) => error.message.startsWith(text));
      if (error.severity !== "warning" || !ours || instrumentation) return [error];
      return [
        {
          ...error,
          type: "Error",
          severity: "error" as const,
          formattedMessage: `${error.formattedMessage ?? error.message}\n(warnings are errors in this project: fix the cause)`,
        },
      ];
    });
    return { ...output, errors };
  },
});
