import { type Address, type Hex, keccak256 } from "viem";

/** A leaf of the distribution tree: `[account, token, cumulativeAmount]` (amount as a decimal string). */
export type Leaf = [Address, Address, string];

/** `StandardMerkleTree.dump()` format ("standard-v1"), which `StandardMerkleTree.load` reads back. */
export interface StandardTreeDump {
  format: "standard-v1";
  leafEncoding: ["address", "address", "uint256"];
  tree: Hex[];
  values: { value: Leaf; treeIndex: number }[];
}

const hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;

/** keccak256(keccak256(abi.encode(address, address, uint256))) — the OpenZeppelin standard leaf. */
function leafHash([account, token, amount]: Leaf): Buffer {
  const encoded = Buffer.alloc(96);
  Buffer.from(account.slice(2), "hex").copy(encoded, 12);
  Buffer.from(token.slice(2), "hex").copy(encoded, 44);
  Buffer.from(BigInt(amount).toString(16).padStart(64, "0"), "hex").copy(encoded, 64);
  return Buffer.from(keccak256(keccak256(encoded, "bytes"), "bytes"));
}

/**
 * The same tree as `StandardMerkleTree.of(leaves, ["address", "address", "uint256"])` — same leaf hashes, same
 * sorted-leaf layout, same sorted-pair hashing, same dump — built on raw bytes instead of hex strings: about 20×
 * faster, which a 100,000-staker epoch needs (the library takes ≈20 s for 180,000 leaves). `test/buildTree.ts`
 * checks the dumps are identical.
 */
export function buildStandardTree(leaves: readonly Leaf[]): { root: Hex; dump: StandardTreeDump } {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  const hashed = leaves.map((value, valueIndex) => ({ valueIndex, hash: leafHash(value) }));
  hashed.sort((a, b) => Buffer.compare(a.hash, b.hash));
  const nodes: Buffer[] = new Array(2 * hashed.length - 1);
  // Leaves fill the end of the array in reverse; each parent hashes its two children, smaller first.
  for (const [i, { hash }] of hashed.entries()) nodes[nodes.length - 1 - i] = hash;
  for (let i = nodes.length - 1 - hashed.length; i >= 0; i--) {
    const left = nodes[2 * i + 1] as Buffer;
    const right = nodes[2 * i + 2] as Buffer;
    const pair = Buffer.compare(left, right) <= 0 ? Buffer.concat([left, right]) : Buffer.concat([right, left]);
    nodes[i] = Buffer.from(keccak256(pair, "bytes"));
  }
  const treeIndex: number[] = new Array(leaves.length);
  for (const [i, { valueIndex }] of hashed.entries()) treeIndex[valueIndex] = nodes.length - 1 - i;
  const tree = nodes.map(hex);
  return {
    root: tree[0] as Hex,
    dump: {
      format: "standard-v1",
      leafEncoding: ["address", "address", "uint256"],
      tree,
      values: leaves.map((value, i) => ({ value, treeIndex: treeIndex[i] as number })),
    },
  };
}
