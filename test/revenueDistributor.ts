import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { network } from "hardhat";

const { ethers, networkHelpers } = await network.create();
const E18 = 10n ** 18n;

describe("RevenueDistributor with @openzeppelin/merkle-tree", () => {
  it("accepts StandardMerkleTree roots and proofs: claim for anyone, claimAndLock for oneself", async () => {
    const [dao, alice, bob] = await ethers.getSigners();
    if (!dao || !alice || !bob) throw new Error("needs three signers");
    const tmai = await ethers.deployContract("TestTMAI", [dao.address]);
    const ve = await ethers.deployContract("VotingEscrow", [await tmai.getAddress()]);
    const distributor = await ethers.deployContract("RevenueDistributor", [
      await ve.getAddress(),
      dao.address,
      dao.address,
      [dao.address],
    ]);
    const token = await tmai.getAddress();
    const tree = StandardMerkleTree.of(
      [
        [alice.address, token, 120n * E18],
        [bob.address, token, 80n * E18],
      ],
      ["address", "address", "uint256"],
    );
    await tmai.mint(dao.address, 200n * E18);
    await tmai.approve(await distributor.getAddress(), 200n * E18);
    await distributor.fund(token, 200n * E18);
    await distributor.proposeRoot(tree.root, ethers.id("report"), [token], [200n * E18]);
    await expect(distributor.acceptRoot()).to.be.revertedWithCustomError(
      distributor,
      "RevenueDistributorRootStillPending",
    );
    await networkHelpers.time.increase(2 * 24 * 3600);
    await distributor.connect(bob).acceptRoot();
    expect(await distributor.root()).to.equal(tree.root);

    // Anyone claims for Alice: the tokens go to Alice.
    await distributor.connect(bob).claim(alice.address, token, 120n * E18, tree.getProof(0));
    expect(await tmai.balanceOf(alice.address)).to.equal(120n * E18);

    // Bob re-locks his reward into his veTMAI lock.
    await tmai.mint(bob.address, 1_000n * E18);
    await tmai.connect(bob).approve(await ve.getAddress(), 1_000n * E18);
    await ve.connect(bob).createLock(1_000n * E18, BigInt(await networkHelpers.time.latest()) + 10n * 7n * 24n * 3600n);
    await distributor.connect(bob).claimAndLock(80n * E18, tree.getProof(1));
    expect((await ve.locked(bob.address))[0]).to.equal(1_080n * E18);
    expect(await tmai.balanceOf(await distributor.getAddress())).to.equal(0n);
  });
});
