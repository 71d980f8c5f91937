import { expect } from "chai";
import { network } from "hardhat";
import { zeroAddress, zeroHash } from "viem";
import { DEFAULT_THRESHOLDS } from "../src/chain/stakingLevel.ts";
import { WEEK } from "../src/chain/veBalance.ts";
import { deployLocalSuite } from "./helpers/suiteFixture.ts";

describe("Ignition modules (deploy/)", () => {
  it("deploy the suite wired together, owned by the Timelock, with no admin left", async () => {
    const connection = await network.create();
    const { ethers, networkHelpers } = connection;
    const [deployer, staker] = await ethers.getSigners();
    if (deployer === undefined || staker === undefined) throw new Error("needs two signers");
    const { tmai, votingEscrow, stakingScore, governor, timelock, revenueDistributor } =
      await deployLocalSuite(connection);
    const timelockAddress = await timelock.getAddress();
    const governorAddress = await governor.getAddress();

    expect(await votingEscrow.token()).to.equal(await tmai.getAddress());
    expect(await stakingScore.ve()).to.equal(await votingEscrow.getAddress());
    expect(await stakingScore.owner()).to.equal(timelockAddress);
    expect([...(await stakingScore.thresholds())]).to.deep.equal(DEFAULT_THRESHOLDS);
    expect(await governor.token()).to.equal(await votingEscrow.getAddress());
    expect(await governor.timelock()).to.equal(timelockAddress);
    expect(await governor.stakingScore()).to.equal(await stakingScore.getAddress());
    expect(await governor.votingDelay()).to.equal(3600n);
    expect(await governor.votingPeriod()).to.equal(7n * 24n * 3600n);
    expect(await governor["quorumNumerator()"]()).to.equal(10n);
    expect(await governor.approvalMarginBps()).to.equal(1000n);
    expect(await governor.CLOCK_MODE()).to.equal("mode=timestamp");
    expect(await timelock.getMinDelay()).to.equal(2n * 24n * 3600n);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), governorAddress)).to.equal(true);
    expect(await timelock.hasRole(await timelock.CANCELLER_ROLE(), governorAddress)).to.equal(true);
    expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), zeroAddress)).to.equal(true);
    expect(await timelock.hasRole(zeroHash, deployer.address)).to.equal(false);
    expect(await timelock.hasRole(zeroHash, timelockAddress)).to.equal(true);
    expect(await revenueDistributor.owner()).to.equal(timelockAddress);
    expect(await revenueDistributor.votingEscrow()).to.equal(await votingEscrow.getAddress());
    expect(await revenueDistributor.isRootProposer(deployer.address)).to.equal(true);
    expect(await revenueDistributor.guardian()).to.equal(deployer.address);

    const amount = 30_000n * 10n ** 18n;
    await tmai.mint(staker.address, amount);
    await tmai.connect(staker).approve(await votingEscrow.getAddress(), amount);
    const now = BigInt(await networkHelpers.time.latest());
    await votingEscrow.connect(staker).createLock(amount, now + 4n * WEEK);
    expect(await stakingScore.levelOf(staker.address)).to.equal(1n);
  });
});
