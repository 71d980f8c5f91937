import { type Address, createPublicClient, createWalletClient, http, parseUnits } from "viem";
import { hardhat } from "viem/chains";
import { stakingScoreAbi, testTmaiAbi, votingEscrowAbi } from "../chain/abis.ts";
import type { SuiteAddresses } from "../chain/deployments.ts";
import { tierName } from "../chain/stakingLevel.ts";
import { WEEK } from "../chain/veBalance.ts";

/** A demo wallet's lock: whole TMAI, length in weeks (a permanent lock starts as a 52-week one). */
export interface DemoWallet {
  label: string;
  tokens: string;
  weeks: bigint;
  permanent: boolean;
  level: number;
}

/** Wallets at Staking Score levels 0, 2, 5, 8 and 10 under the default thresholds. */
export const DEMO_WALLETS: readonly DemoWallet[] = [
  { label: "level 0", tokens: "10000", weeks: 4n, permanent: false, level: 0 },
  { label: "level 2", tokens: "100000", weeks: 26n, permanent: false, level: 2 },
  { label: "level 5", tokens: "500000", weeks: 52n, permanent: true, level: 5 },
  { label: "level 8", tokens: "2500000", weeks: 52n, permanent: false, level: 8 },
  { label: "level 10", tokens: "4000000", weeks: 52n, permanent: true, level: 10 },
];

export interface SeededWallet {
  label: string;
  address: Address;
  amount: bigint;
  end: bigint;
  permanent: boolean;
  veTMAI: bigint;
  level: number;
  tier: string;
}

export interface SeedDemoWalletsParameters {
  rpcUrl: string;
  addresses: SuiteAddresses & { token: Address };
}

/**
 * Mints test TMAI to the node's accounts 1–5 (account 0 deployed the token and mints) and locks for them as in
 * `DEMO_WALLETS`, then reads every lock back and checks that each wallet reached its level.
 */
export async function seedDemoWallets({ rpcUrl, addresses }: SeedDemoWalletsParameters): Promise<SeededWallet[]> {
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain: hardhat, transport });
  const walletClient = createWalletClient({ chain: hardhat, transport });
  const [deployer, ...accounts] = await walletClient.getAddresses();
  if (deployer === undefined || accounts.length < DEMO_WALLETS.length) {
    throw new Error(`the node at ${rpcUrl} exposes too few unlocked accounts for the demo wallets`);
  }
  const send = async (hash: Promise<`0x${string}`>) => publicClient.waitForTransactionReceipt({ hash: await hash });

  const seeded: SeededWallet[] = [];
  for (const [i, wallet] of DEMO_WALLETS.entries()) {
    const account = accounts[i] as Address;
    const amount = parseUnits(wallet.tokens, 18);
    await send(
      walletClient.writeContract({
        account: deployer,
        address: addresses.token,
        abi: testTmaiAbi,
        functionName: "mint",
        args: [account, amount],
      }),
    );
    await send(
      walletClient.writeContract({
        account,
        address: addresses.token,
        abi: testTmaiAbi,
        functionName: "approve",
        args: [addresses.votingEscrow, amount],
      }),
    );
    const { timestamp } = await publicClient.getBlock();
    await send(
      walletClient.writeContract({
        account,
        address: addresses.votingEscrow,
        abi: votingEscrowAbi,
        functionName: "createLock",
        args: [amount, timestamp + wallet.weeks * WEEK],
      }),
    );
    if (wallet.permanent) {
      await send(
        walletClient.writeContract({
          account,
          address: addresses.votingEscrow,
          abi: votingEscrowAbi,
          functionName: "lockPermanent",
        }),
      );
    }
    const [locked, end, permanent] = await publicClient.readContract({
      address: addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "locked",
      args: [account],
    });
    const veTMAI = await publicClient.readContract({
      address: addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "balanceOf",
      args: [account],
    });
    const level = await publicClient.readContract({
      address: addresses.stakingScore,
      abi: stakingScoreAbi,
      functionName: "levelOf",
      args: [account],
    });
    if (level !== wallet.level) {
      throw new Error(
        `demo wallet "${wallet.label}" reached level ${level}, not ${wallet.level}: check the thresholds`,
      );
    }
    seeded.push({
      label: wallet.label,
      address: account,
      amount: locked,
      end,
      permanent,
      veTMAI,
      level,
      tier: tierName(level),
    });
  }
  return seeded;
}
