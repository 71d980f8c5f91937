/** An account's weight in a split (its veTMAI·seconds over the epoch). */
export interface Weight {
  account: string;
  weight: bigint;
}

/**
 * Splits `amount` pro rata to `weights` in integers whose sum is exactly `amount`: everyone gets the floor of
 * their exact share, and the units left over go one each to the largest remainders, ties broken by address
 * (lowercase, ascending), so the result depends on nothing but the inputs. Accounts of zero weight get zero.
 */
export function splitReward(amount: bigint, weights: readonly Weight[]): Map<string, bigint> {
  if (amount < 0n) throw new RangeError(`cannot split a negative amount (${amount})`);
  const total = weights.reduce((sum, w) => sum + w.weight, 0n);
  const shares = new Map<string, bigint>();
  if (total === 0n) {
    if (amount > 0n) throw new RangeError(`no staker has any weight in the epoch: ${amount} cannot be split`);
    for (const w of weights) shares.set(w.account, 0n);
    return shares;
  }
  const remainders: { account: string; remainder: bigint }[] = [];
  let given = 0n;
  for (const { account, weight } of weights) {
    if (weight < 0n) throw new RangeError(`negative weight for ${account}`);
    const exact = amount * weight;
    const share = exact / total;
    shares.set(account, share);
    given += share;
    remainders.push({ account, remainder: exact % total });
  }
  remainders.sort((a, b) =>
    a.remainder === b.remainder
      ? a.account.toLowerCase() < b.account.toLowerCase()
        ? -1
        : 1
      : a.remainder > b.remainder
        ? -1
        : 1,
  );
  // Fewer units are left than accounts: each floor lost less than one unit.
  for (let left = amount - given, i = 0; left > 0n; left--, i++) {
    const { account } = remainders[i] as { account: string };
    shares.set(account, (shares.get(account) as bigint) + 1n);
  }
  return shares;
}
