import { votingEscrowAbi } from "../../chain/abis.ts";
import { formatTokens } from "../../format/formatTokens.ts";
import { readAccountState, standingAt } from "../accountState.ts";
import { approveIfNeeded } from "../approveIfNeeded.ts";
import { createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { requireBalance, requireLiveLock } from "../lockChecks.ts";
import { parseAmount } from "../parseAmount.ts";
import { confirm, send } from "../ui.ts";
import { printStatus } from "./status.ts";

/** `tmai increase --amount <n>`: adds tokens to the live lock; the end stays. */
export async function increase(options: GlobalOptions, amountText: string): Promise<void> {
  const context = withSigner(await createCliContext(options));
  const { decimals, symbol } = context.token;
  const amount = parseAmount(amountText, decimals, symbol);
  const state = await readAccountState(context, context.account.address);
  requireLiveLock(state);
  requireBalance(state, amount, symbol, decimals);
  const after = standingAt({ ...state.lock, amount: state.lock.amount + amount }, state.thresholds, state.now);
  console.error(
    `Add ${formatTokens(amount, decimals, 4)} ${symbol} to your lock: ${formatTokens(after.veTMAI, decimals, 2)} ` +
      `veTMAI now, level ${after.level} (${after.tier}).`,
  );
  await confirm(context, "Send the deposit?");
  await approveIfNeeded(context, state, amount);
  await send(context, {
    label: "increaseAmount",
    address: context.addresses.votingEscrow,
    abi: votingEscrowAbi,
    functionName: "increaseAmount",
    args: [amount],
  });
  printStatus(context, await readAccountState(context, context.account.address));
}
