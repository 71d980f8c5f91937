import { type AccountState, describeAccount, readAccountState } from "../accountState.ts";
import { CliError } from "../CliError.ts";
import { type CliContext, createCliContext, type GlobalOptions, parseAddress, withSigner } from "../context.ts";
import { output } from "../ui.ts";

/** `tmai status [address]`: lock, veTMAI, level and tier now, when the level is lost, and in 30 and 90 days. */
export async function status(options: GlobalOptions, address?: string): Promise<void> {
  const context = await createCliContext(options);
  let wallet: `0x${string}`;
  if (address !== undefined) wallet = parseAddress(address);
  else if (process.env[options.keyEnv]) wallet = withSigner(context).account.address;
  else throw new CliError(`give an address (tmai status 0x…) or set ${options.keyEnv} to use your signer's`);
  printStatus(context, await readAccountState(context, wallet));
}

export function printStatus(context: CliContext, state: AccountState): void {
  const { text, data } = describeAccount(context, state);
  output(context, text, data);
}
