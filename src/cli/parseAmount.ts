import { parseUnits } from "viem";
import { CliError } from "./CliError.ts";

/** A token amount in human units (`1000`, `1_000`, `0.5`) as base units for a token with `decimals`. */
export function parseAmount(text: string, decimals: number, symbol: string): bigint {
  const cleaned = text.replaceAll("_", "").replaceAll(",", "");
  if (!/^\d+(\.\d+)?$/.test(cleaned)) {
    throw new CliError(`cannot read the amount "${text}": write a number of ${symbol}, e.g. 1000 or 250.5`);
  }
  const fraction = cleaned.split(".")[1] ?? "";
  if (fraction.length > decimals) {
    throw new CliError(`${symbol} has ${decimals} decimals; "${text}" has ${fraction.length}`);
  }
  const amount = parseUnits(cleaned, decimals);
  if (amount === 0n) throw new CliError("the amount must be more than 0");
  return amount;
}
