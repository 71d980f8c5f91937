import { votingEscrowAbi } from "../../chain/abis.ts";
import { floorToWeek, MAXTIME } from "../../chain/veBalance.ts";
import { formatDate, formatTokens } from "../../format/formatTokens.ts";
import { readAccountState, standingAt } from "../accountState.ts";
import { CliError } from "../CliError.ts";
import { createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { requireLiveLock } from "../lockChecks.ts";
import { confirm, send } from "../ui.ts";
import { printStatus } from "./status.ts";

/** `tmai permanent on|off`: 2× without decay, or back to a timed lock ending 52 weeks from now. */
export async function permanent(options: GlobalOptions, mode: string): Promise<void> {
  if (mode !== "on" && mode !== "off")
    throw new CliError(`say \`tmai permanent on\` or \`tmai permanent off\`, not "${mode}"`);
  const context = withSigner(await createCliContext(options));
  const state = await readAccountState(context, context.account.address);
  const { decimals } = context.token;
  if (mode === "on") {
    requireLiveLock(state);
    if (state.lock.permanent) throw new CliError("your lock is already permanent");
    const after = standingAt({ ...state.lock, permanent: true }, state.thresholds, state.now);
    console.error(
      `Make your lock permanent: ${formatTokens(after.veTMAI, decimals, 2)} veTMAI (2×) without decay, level ` +
        `${after.level} (${after.tier}); to withdraw later, turn it off and wait 52 weeks.`,
    );
    await confirm(context, "Send?");
    await send(context, {
      label: "lockPermanent",
      address: context.addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "lockPermanent",
    });
  } else {
    if (state.lock.amount === 0n) throw new CliError("you have no lock");
    if (!state.lock.permanent) throw new CliError("your lock is not permanent: nothing to turn off");
    const end = floorToWeek(state.now + MAXTIME);
    const after = standingAt({ ...state.lock, permanent: false, end }, state.thresholds, state.now);
    console.error(
      `Turn permanence off: the lock ends on ${formatDate(end)} and decays from ` +
        `${formatTokens(after.veTMAI, decimals, 2)} veTMAI, level ${after.level} (${after.tier}).`,
    );
    await confirm(context, "Send?");
    await send(context, {
      label: "unlockPermanent",
      address: context.addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "unlockPermanent",
    });
  }
  printStatus(context, await readAccountState(context, context.account.address));
}
