import { CliError } from "./CliError.ts";

const DAY = 86_400n;
const WEEK = 7n * DAY;

/**
 * A lock length such as `52w`, `12mo`, `6mo`, `30d` or `1y`, in seconds. Months are 52/12 weeks rounded down to
 * whole weeks (`6mo` = 26 weeks, `12mo` = 52 weeks), so the vendor's "12 months" is the 52-week maximum.
 */
export function parseDuration(text: string): bigint {
  const match = /^\s*(\d+)\s*(w|wk|weeks?|mo|months?|d|days?|y|years?)\s*$/i.exec(text);
  if (match === null) {
    throw new CliError(`cannot read the duration "${text}": write a number and a unit, e.g. 52w, 12mo, 6mo, 30d or 1y`);
  }
  const count = BigInt(match[1] as string);
  const unit = (match[2] as string).toLowerCase();
  if (unit.startsWith("mo")) return ((count * 52n) / 12n) * WEEK;
  if (unit.startsWith("w")) return count * WEEK;
  if (unit.startsWith("d")) return count * DAY;
  return count * 52n * WEEK;
}

/** An ISO date (`2027-06-01`) or date-time (`2027-06-01T12:00:00Z`) as Unix seconds; dates are 00:00 UTC. */
export function parseUntil(text: string): bigint {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const millis = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(millis)) {
    throw new CliError(`cannot read the date "${text}": use the ISO form, e.g. 2027-06-01 or 2027-06-01T12:00:00Z`);
  }
  return BigInt(Math.floor(millis / 1000));
}
