import { type Address, getAddress, isAddress } from "viem";
import { z } from "zod";
import { readJsonFile } from "../format/readJsonFile.ts";

/** What the DAO decides for one epoch; see `EpochInputSchema`. */
export interface EpochInput {
  epoch: number;
  /** Unix seconds, inclusive. */
  start: bigint;
  /** Unix seconds, exclusive. */
  end: bigint;
  rewards: { token: Address; amount: bigint }[];
  exclude: Address[];
  /** Path of the previous epoch's report, relative to the input file (absent for the first epoch). */
  previous?: string;
  /** First block to scan for stakers (the VotingEscrow's deployment block; default 0). */
  fromBlock: bigint;
}

const address = z
  .string()
  .refine((value) => isAddress(value), { message: "must be an address (0x followed by 40 hexadecimal digits)" })
  .transform((value) => getAddress(value));
const isoTime = z.iso.datetime({ offset: true, message: "must be an ISO date-time such as 2026-10-01T00:00:00Z" });
const decimal = z.string().regex(/^\d+$/, { message: 'must be a decimal string of base units, e.g. "1000000"' });

/** The epoch input file: `{ epoch, start, end, rewards: [{ token, amount }], exclude?, previous?, fromBlock? }`. */
export const EpochInputSchema = z
  .object({
    epoch: z.number().int().positive(),
    start: isoTime,
    end: isoTime,
    rewards: z.array(z.object({ token: address, amount: decimal })).min(1, { message: "needs at least one reward" }),
    exclude: z.array(address).default([]),
    previous: z.string().min(1).optional(),
    fromBlock: z.number().int().nonnegative().default(0),
  })
  .strict();

export class EpochInputError extends Error {
  override name = "EpochInputError";
}

/** Reads and validates an epoch input file; every problem is reported with its path in the file. */
export function readEpochInput(file: string): EpochInput {
  const input = readJsonFile(file, EpochInputSchema, "epoch input", (message) => new EpochInputError(message));
  const start = BigInt(Date.parse(input.start) / 1000);
  const end = BigInt(Date.parse(input.end) / 1000);
  if (end <= start)
    throw new EpochInputError(`${file}: the epoch ends (${input.end}) before it starts (${input.start})`);
  const tokens = input.rewards.map((r) => r.token);
  if (new Set(tokens).size !== tokens.length) throw new EpochInputError(`${file}: a reward token is listed twice`);
  return {
    epoch: input.epoch,
    start,
    end,
    rewards: input.rewards.map((r) => ({ token: r.token, amount: BigInt(r.amount) })),
    exclude: input.exclude,
    ...(input.previous === undefined ? {} : { previous: input.previous }),
    fromBlock: BigInt(input.fromBlock),
  };
}
