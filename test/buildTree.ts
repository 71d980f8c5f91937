import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { getAddress } from "viem";
import { buildStandardTree, type Leaf } from "../src/distribution/buildTree.ts";

describe("buildStandardTree (fast StandardMerkleTree)", () => {
  it("dumps exactly what @openzeppelin/merkle-tree dumps, for trees of 1 to 300 leaves", () => {
    let state = 7n;
    const next = () => {
      state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      return state;
    };
    for (const size of [1, 2, 3, 4, 5, 17, 64, 300]) {
      const leaves: Leaf[] = Array.from({ length: size }, (_, i) => [
        getAddress(`0x${(next() * 7919n + BigInt(i)).toString(16).padStart(40, "0").slice(-40)}`),
        getAddress(`0x${(0xa0n + (next() % 3n)).toString(16).padStart(40, "0")}`),
        String(next() * next()),
      ]);
      const ours = buildStandardTree(leaves);
      const theirs = StandardMerkleTree.of(leaves, ["address", "address", "uint256"]);
      expect(ours.root).to.equal(theirs.root);
      expect(ours.dump).to.deep.equal(theirs.dump());
      // And the library loads ours and proves every leaf.
      const loaded = StandardMerkleTree.load(ours.dump);
      loaded.validate();
      for (const [i] of loaded.entries()) expect(loaded.verify(i, loaded.getProof(i))).to.equal(true);
    }
    expect(() => buildStandardTree([])).to.throw(RangeError);
  });
});
