import { formatUnits } from "viem";

/** A token amount in base units as whole tokens with thousands separators, e.g. `1,234,567` (rounded). */
export function formatTokens(value: bigint, decimals = 18, fractionDigits = 0): string {
  return Number(formatUnits(value, decimals)).toLocaleString("en-US", {
    minimumFractionDigits: 0,
    maximumFractionDigits: fractionDigits,
  });
}

/** A Unix time in seconds as an ISO date (UTC), e.g. `2027-06-03`. */
export function formatDate(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
}
