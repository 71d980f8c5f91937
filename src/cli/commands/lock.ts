import { type Hex, parseSignature } from "viem";
import { testTmaiAbi, votingEscrowAbi } from "../../chain/abis.ts";
import { formatDate, formatTokens } from "../../format/formatTokens.ts";
import { readAccountState, standingAt } from "../accountState.ts";
import { approveIfNeeded } from "../approveIfNeeded.ts";
import { createCliContext, type GlobalOptions, type SignerContext, withSigner } from "../context.ts";
import { chooseUnlockTime, requireBalance, requireNoLock } from "../lockChecks.ts";
import { parseAmount } from "../parseAmount.ts";
import { confirm, send } from "../ui.ts";
import { printStatus } from "./status.ts";

export interface LockOptions {
  amount: string;
  duration?: string;
  until?: string;
}

/**
 * `tmai lock --amount <n> --duration <d> | --until <date>`: shows what the lock gives, asks, then locks in one
 * transaction with the token's EIP-2612 permit when it has one (approve, then lock, otherwise).
 */
export async function lock(options: GlobalOptions, lockOptions: LockOptions): Promise<void> {
  const context = withSigner(await createCliContext(options));
  const { decimals, symbol } = context.token;
  const amount = parseAmount(lockOptions.amount, decimals, symbol);
  const state = await readAccountState(context, context.account.address);
  requireNoLock(state, symbol, decimals);
  const { unlockTime, end } = chooseUnlockTime(lockOptions, state.now);
  requireBalance(state, amount, symbol, decimals);

  const gives = standingAt({ amount, end, permanent: false }, state.thresholds, state.now);
  const summary =
    `Lock ${formatTokens(amount, decimals, 4)} ${symbol} until ${formatDate(end)} (rounded down to a Thursday): ` +
    `${formatTokens(gives.veTMAI, decimals, 2)} veTMAI now, level ${gives.level} (${gives.tier}), decaying to ` +
    `${formatTokens(amount, decimals, 2)} veTMAI just before the end.`;
  console.error(summary);
  await confirm(context, "Send the lock?");

  const permit = await signPermitIfSupported(context, amount, state.now + 3600n);
  if (permit !== undefined) {
    const { r, s, v, yParity } = parseSignature(permit);
    await send(context, {
      label: "createLockWithPermit",
      address: context.addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "createLockWithPermit",
      args: [amount, unlockTime, state.now + 3600n, Number(v ?? BigInt(yParity + 27)), r, s],
    });
  } else {
    await approveIfNeeded(context, state, amount);
    await send(context, {
      label: "createLock",
      address: context.addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "createLock",
      args: [amount, unlockTime],
    });
  }
  printStatus(context, await readAccountState(context, context.account.address));
}

/** An EIP-2612 permit for the escrow, or `undefined` when the token has none (no `nonces` / ERC-5267 domain). */
async function signPermitIfSupported(
  context: SignerContext,
  value: bigint,
  deadline: bigint,
): Promise<Hex | undefined> {
  const { publicClient, token, account } = context;
  let nonce: bigint;
  let domain: { name: string; version: string; chainId: bigint; verifyingContract: `0x${string}` };
  try {
    nonce = await publicClient.readContract({
      address: token.address,
      abi: testTmaiAbi,
      functionName: "nonces",
      args: [account.address],
    });
    const [, name, version, chainId, verifyingContract] = await publicClient.readContract({
      address: token.address,
      abi: testTmaiAbi,
      functionName: "eip712Domain",
    });
    domain = { name, version, chainId, verifyingContract };
  } catch {
    return undefined;
  }
  return context.walletClient.signTypedData({
    account,
    domain,
    primaryType: "Permit",
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    message: { owner: account.address, spender: context.addresses.votingEscrow, value, nonce, deadline },
  });
}
