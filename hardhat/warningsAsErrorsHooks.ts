import type { SolidityHooks } from "hardhat/types/hooks";
import type { CompilerOutputError } from "hardhat/types/solidity";

/** solc reports where a diagnostic points; Hardhat's type leaves the field out. */
type LocatedError = CompilerOutputError & { sourceLocation?: { file: string } };

/** Warnings Hardhat itself introduces when it instruments code for `--coverage`. */
const INSTRUMENTATION_WARNINGS = ["Contract code size is", "Contract initcode size is"];

/**
 * OpenZeppelin Contracts is audited and pinned; its warnings (transient storage used as documented, `at`
 * becoming a keyword in a future solc) are not ours to fix and would bury ours, so they are dropped.
 */
const AUDITED_DEPENDENCY = "@openzeppelin/contracts";

export default async (): Promise<Partial<SolidityHooks>> => ({
  async invokeSolc(context, compiler, solcInput, solcConfig, next) {
    const output = await next(context, compiler, solcInput, solcConfig);
    const errors = (output.errors ?? []).flatMap((error: LocatedError) => {
      const file = error.sourceLocation?.file ?? "";
      if (error.severity === "warning" && file.includes(AUDITED_DEPENDENCY)) return [];
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
