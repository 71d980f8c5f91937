import { erc20Abi } from "viem";
import type { AccountState } from "./accountState.ts";
import type { SignerContext } from "./context.ts";
import { send } from "./ui.ts";

/** Approves the escrow for `amount` unless the wallet's allowance already covers it. */
export async function approveIfNeeded(context: SignerContext, state: AccountState, amount: bigint): Promise<void> {
  if (state.allowance >= amount) return;
  await send(context, {
    label: "approve",
    address: context.token.address,
    abi: erc20Abi,
    functionName: "approve",
    args: [context.addresses.votingEscrow, amount],
  });
}
