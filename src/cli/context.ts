import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  type Hex,
  http,
  isAddress,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { base, baseSepolia, hardhat } from "viem/chains";
import { votingEscrowAbi } from "../chain/abis.ts";
import { DeploymentNotFoundError, loadDeployment, type SuiteAddresses } from "../chain/deployments.ts";
import { CliError } from "./CliError.ts";

/** Options every command accepts. */
export interface GlobalOptions {
  network: string;
  rpc?: string;
  keyEnv: string;
  json: boolean;
  yes: boolean;
}

export interface CliContext {
  options: GlobalOptions;
  publicClient: PublicClient;
  chain: Chain;
  addresses: SuiteAddresses;
  token: { address: Address; decimals: number; symbol: string };
}

export interface SignerContext extends CliContext {
  account: Account;
  walletClient: WalletClient;
}

const KNOWN_CHAINS: Chain[] = [hardhat, baseSepolia, base];

/** Default RPC endpoints by network name; environment variables override them. */
function rpcUrlFor(network: string): string {
  switch (network) {
    case "localhost":
      return `http://127.0.0.1:${process.env.TMAI_RPC_PORT ?? 8545}`;
    case "baseSepolia":
      return process.env.BASE_SEPOLIA_RPC_URL ?? "https://sepolia.base.org";
    case "base":
      return process.env.BASE_RPC_URL ?? "https://mainnet.base.org";
    default:
      throw new CliError(`unknown network "${network}": use localhost, baseSepolia or base, or give --rpc <url>`);
  }
}

/** Connects to the chain and finds the suite and its token. */
export async function createCliContext(options: GlobalOptions): Promise<CliContext> {
  const url = options.rpc ?? rpcUrlFor(options.network);
  const probe = createPublicClient({ transport: http(url, { retryCount: 0 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch {
    const hint = options.network === "localhost" && !options.rpc ? " (start the local stack with `npm start`)" : "";
    throw new CliError(`cannot reach the JSON-RPC endpoint ${url}${hint}`);
  }
  const chain =
    KNOWN_CHAINS.find((c) => c.id === chainId) ??
    defineChain({
      id: chainId,
      name: `chain ${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    });
  const publicClient = createPublicClient({ chain, transport: http(url) }) as PublicClient;
  let addresses: SuiteAddresses;
  try {
    addresses = loadDeployment(chainId);
  } catch (error) {
    if (error instanceof DeploymentNotFoundError) throw new CliError(error.message);
    throw error;
  }
  const tokenAddress =
    addresses.token ??
    (await publicClient.readContract({ address: addresses.votingEscrow, abi: votingEscrowAbi, functionName: "token" }));
  const [decimals, symbol] = await Promise.all([
    publicClient.readContract({ address: tokenAddress, abi: erc20Abi, functionName: "decimals" }),
    publicClient.readContract({ address: tokenAddress, abi: erc20Abi, functionName: "symbol" }),
  ]);
  return { options, publicClient, chain, addresses, token: { address: tokenAddress, decimals, symbol } };
}

/** The signer from the environment variable named by `--key-env`: keys never travel on the command line. */
export function withSigner(context: CliContext): SignerContext {
  const variable = context.options.keyEnv;
  const key = process.env[variable]?.trim();
  if (!key) {
    throw new CliError(
      `no signer: put your private key in the environment variable ${variable} ` +
        `(from the Hardhat keystore: ${variable}=$(npx hardhat keystore get <key name>)), or name another variable with --key-env`,
    );
  }
  const hex = (key.startsWith("0x") ? key : `0x${key}`) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new CliError(`${variable} does not hold a private key (64 hexadecimal digits)`);
  }
  const account = privateKeyToAccount(hex);
  const walletClient = createWalletClient({
    account,
    chain: context.chain,
    transport: http(context.publicClient.transport.url as string),
  });
  return { ...context, account, walletClient };
}

/** `text` as an address, or a clear error. */
export function parseAddress(text: string): Address {
  if (!isAddress(text)) throw new CliError(`"${text}" is not an address (0x followed by 40 hexadecimal digits)`);
  return text;
}
