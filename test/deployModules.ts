import { expect } from "chai";
import { network } from "hardhat";
import TestTMAIModule from "../deploy/modules/TestTMAI.ts";
import VeTMAIModule from "../deploy/modules/VeTMAI.ts";
import { DEFAULT_THRESHOLDS } from "../src/chain/stakingLevel.ts";
import { WEEK } from "../src/chain/veBalance.ts";

describe("Ignition modules (deploy/)", () => {
  it("deploy TMAI, VotingEscrow and StakingScore wired together and ready to lock", async () => {
    const { ignition, ethers, networkHelpers } = await network.create();
    const [deployer, staker] = await ethers.getSigners();
    if (deployer === undefined || staker === undefined) throw new Error("needs two signers");
    const token = await ignition.deploy(TestTMAIModule);
    const tokenAddress = await token.tmai.getAddress();
    const deployed = await ignition.deploy(VeTMAIModule, { parameters: { VeTMAI: { token: tokenAddress } } });
    // Ignition returns untyped contracts: attach the typechain types.
    const tmai = await ethers.getContractAt("TestTMAI", tokenAddress);
    const votingEscrow = await ethers.getContractAt("VotingEscrow", await deployed.votingEscrow.getAddress());
    const stakingScore = await ethers.getContractAt("StakingScore", await deployed.stakingScore.getAddress());

    expect(await votingEscrow.token()).to.equal(tokenAddress);
    expect(await stakingScore.ve()).to.equal(await votingEscrow.getAddress());
    expect(await stakingScore.owner()).to.equal(deployer.address);
    expect([...(await stakingScore.thresholds())]).to.deep.equal(DEFAULT_THRESHOLDS);

    const amount = 30_000n * 10n ** 18n;
    await tmai.mint(staker.address, amount);
    await tmai.connect(staker).approve(await votingEscrow.getAddress(), amount);
    const now = BigInt(await networkHelpers.time.latest());
    await votingEscrow.connect(staker).createLock(amount, now + 4n * WEEK);
    expect(await stakingScore.levelOf(staker.address)).to.equal(1n);
  });

  it("refuses to deploy VotingEscrow without the token parameter", async () => {
    const { ignition } = await network.create();
    let error: unknown;
    try {
      await ignition.deploy(VeTMAIModule);
    } catch (caught) {
      error = caught;
    }
    expect(String(error)).to.match(/token/);
  });
});
