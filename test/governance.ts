import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";
import { DEFAULT_THRESHOLDS } from "../src/chain/stakingLevel.ts";
import { deployLocalSuite } from "./helpers/suiteFixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;
const E18 = 10n ** 18n;
const HOUR = 3600n;
const DAY = 24n * HOUR;

/** OpenZeppelin's ProposalState. */
const State = { Pending: 0n, Active: 1n, Defeated: 3n, Succeeded: 4n, Queued: 5n, Executed: 7n } as const;
const Vote = { Against: 0, For: 1, Abstain: 2 } as const;

async function governanceFixture() {
  const suite = await deployLocalSuite(connection);
  const [, proposer, nobody, whale, against, minnow] = await ethers.getSigners();
  if (!proposer || !nobody || !whale || !against || !minnow) throw new Error("needs six signers");
  // Permanent locks give exact, constant votes: 2 × amount.
  const lockPermanent = async (signer: Signer, tokens: bigint) => {
    const amount = tokens * E18;
    await suite.tmai.mint(await signer.getAddress(), amount);
    await suite.tmai.connect(signer).approve(await suite.votingEscrow.getAddress(), amount);
    const now = BigInt(await time.latest());
    await suite.votingEscrow.connect(signer).createLock(amount, now + 4n * 7n * DAY);
    await suite.votingEscrow.connect(signer).lockPermanent();
  };
  await lockPermanent(proposer, 30_000n); // 60,000 veTMAI: level 1
  await lockPermanent(minnow, 5_000n); // 10,000 veTMAI: level 0
  await lockPermanent(whale, 540_000n); // 1,080,000 veTMAI
  await lockPermanent(against, 460_000n); // 920,000 veTMAI
  await time.increase(1);
  return { ...suite, proposer, nobody, whale, against, minnow };
}

type Suite = Awaited<ReturnType<typeof governanceFixture>>;

/** A proposal that calls `StakingScore.setThresholds(thresholds)` through the Timelock. */
async function setThresholdsProposal(stakingScore: Suite["stakingScore"], thresholds: readonly bigint[]) {
  type Ten = [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const tuple = [...thresholds] as Ten;
  return {
    targets: [await stakingScore.getAddress()],
    values: [0n],
    calldatas: [stakingScore.interface.encodeFunctionData("setThresholds", [tuple])],
  };
}

describe("Governance: TMAIGovernor + Timelock on veTMAI", () => {
  it("lets a level-1 staker change the thresholds: propose, vote, quorum and margin, queue, execute", async () => {
    const { governor, stakingScore, proposer, whale, against } = await networkHelpers.loadFixture(governanceFixture);
    expect(await stakingScore.levelOf(proposer.address)).to.equal(1n);
    const halved = DEFAULT_THRESHOLDS.map((t) => t / 2n);
    const { targets, values, calldatas } = await setThresholdsProposal(stakingScore, halved);
    const description = "Halve the Staking Score thresholds";
    await governor.connect(proposer).propose(targets, values, calldatas, description);
    const descriptionHash = ethers.id(description);
    const id = await governor.hashProposal(targets, values, calldatas, descriptionHash);
    expect(await governor.state(id)).to.equal(State.Pending);

    await time.increase(HOUR + 1n);
    expect(await governor.state(id)).to.equal(State.Active);
    await governor.connect(whale).castVote(id, Vote.For);
    await governor.connect(against).castVote(id, Vote.Abstain);
    await governor.connect(proposer).castVote(id, Vote.Against);
    const snapshot = await governor.proposalSnapshot(id);
    // Quorum: 10 % of the veTMAI supply at the snapshot, read from the escrow's history.
    expect(await governor.quorum(snapshot)).to.equal((2_070_000n * E18 * 10n) / 100n);

    await time.increase(7n * DAY);
    expect(await governor.state(id)).to.equal(State.Succeeded);
    await governor.queue(targets, values, calldatas, descriptionHash);
    expect(await governor.state(id)).to.equal(State.Queued);
    // The Timelock holds it for its minimum delay (2 days).
    const timelock = await ethers.getContractAt("TimelockController", await governor.timelock());
    await expect(governor.execute(targets, values, calldatas, descriptionHash)).to.be.revertedWithCustomError(
      timelock,
      "TimelockUnexpectedOperationState",
    );
    await time.increase(2n * DAY);
    await governor.execute(targets, values, calldatas, descriptionHash);
    expect(await governor.state(id)).to.equal(State.Executed);
    expect([...(await stakingScore.thresholds())]).to.deep.equal(halved);
  });

  it("refuses a second proposal within 30 days at level 1, and opens the slot after", async () => {
    const { governor, stakingScore, proposer } = await networkHelpers.loadFixture(governanceFixture);
    const first = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    const before = BigInt(await time.latest());
    expect(await governor.nextProposalTime(proposer.address)).to.be.within(before, before + 1n);
    await governor.connect(proposer).propose(first.targets, first.values, first.calldatas, "first");
    const firstAt = BigInt(await time.latest());
    expect(await governor.nextProposalTime(proposer.address)).to.equal(firstAt + 30n * DAY);

    await time.increase(29n * DAY);
    await expect(governor.connect(proposer).propose(first.targets, first.values, first.calldatas, "second"))
      .to.be.revertedWithCustomError(governor, "TMAIGovernorProposalAllowanceUsed")
      .withArgs(proposer.address, 1, 1, firstAt + 30n * DAY);

    await time.increaseTo(firstAt + 30n * DAY);
    await governor.connect(proposer).propose(first.targets, first.values, first.calldatas, "second");
  });

  it("refuses proposals from level 0", async () => {
    const { governor, stakingScore, minnow, nobody } = await networkHelpers.loadFixture(governanceFixture);
    const p = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    for (const signer of [minnow, nobody]) {
      await expect(governor.connect(signer).propose(p.targets, p.values, p.calldatas, "no rights"))
        .to.be.revertedWithCustomError(governor, "TMAIGovernorLevelTooLow")
        .withArgs(signer.address, 0);
      expect(await governor.nextProposalTime(signer.address)).to.equal(ethers.MaxUint256);
    }
  });

  it("defeats a proposal that meets quorum but misses the 10 % approval margin", async () => {
    const { governor, stakingScore, proposer, whale, against } = await networkHelpers.loadFixture(governanceFixture);
    const p = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    await governor.connect(proposer).propose(p.targets, p.values, p.calldatas, "close call");
    const id = await governor.hashProposal(p.targets, p.values, p.calldatas, ethers.id("close call"));
    await time.increase(HOUR + 1n);
    // 1,080,000 For vs 920,000 Against: a majority (54 %), but For − Against = 8 % of the votes cast.
    await governor.connect(whale).castVote(id, Vote.For);
    await governor.connect(against).castVote(id, Vote.Against);
    await time.increase(7n * DAY);
    const [againstVotes, forVotes] = await governor.proposalVotes(id);
    expect(forVotes > againstVotes).to.equal(true);
    expect(forVotes + againstVotes >= (await governor.quorum(await governor.proposalSnapshot(id)))).to.equal(true);
    expect(await governor.state(id)).to.equal(State.Defeated);
  });

  it("defeats a proposal with more Against than For", async () => {
    const { governor, stakingScore, proposer, whale, against } = await networkHelpers.loadFixture(governanceFixture);
    const p = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    await governor.connect(proposer).propose(p.targets, p.values, p.calldatas, "unpopular");
    const id = await governor.hashProposal(p.targets, p.values, p.calldatas, ethers.id("unpopular"));
    await time.increase(HOUR + 1n);
    await governor.connect(whale).castVote(id, Vote.Against);
    await governor.connect(against).castVote(id, Vote.For);
    await time.increase(7n * DAY);
    expect(await governor.state(id)).to.equal(State.Defeated);
  });

  it("grants more proposals per 30 days at higher levels (vendor table) and keeps settings governance-only", async () => {
    const { governor, stakingScore, whale } = await networkHelpers.loadFixture(governanceFixture);
    const allowances = await Promise.all(
      [0, 1, 3, 4, 6, 7, 8, 9, 10].map((level) => governor.proposalAllowance(level)),
    );
    expect(allowances).to.deep.equal([0n, 1n, 1n, 2n, 2n, 3n, 3n, 4n, 4n]);
    expect(await stakingScore.levelOf(whale.address)).to.equal(5n);
    const p = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    await governor.connect(whale).propose(p.targets, p.values, p.calldatas, "one");
    await governor.connect(whale).propose(p.targets, p.values, p.calldatas, "two");
    await expect(
      governor.connect(whale).propose(p.targets, p.values, p.calldatas, "three"),
    ).to.be.revertedWithCustomError(governor, "TMAIGovernorProposalAllowanceUsed");
    await expect(governor.connect(whale).setApprovalMargin(0)).to.be.revertedWithCustomError(
      governor,
      "GovernorOnlyExecutor",
    );
    await expect(stakingScore.connect(whale).setThresholds([...DEFAULT_THRESHOLDS])).to.be.revertedWithCustomError(
      stakingScore,
      "OwnableUnauthorizedAccount",
    );
  });

  it("changes the approval margin only through a proposal, refusing one above 100 %", async () => {
    const { governor, proposer, whale, against } = await networkHelpers.loadFixture(governanceFixture);
    const pass = async (signer: Signer, bps: bigint, description: string) => {
      const targets = [await governor.getAddress()];
      const calldatas = [governor.interface.encodeFunctionData("setApprovalMargin", [bps])];
      await governor.connect(signer).propose(targets, [0n], calldatas, description);
      const id = await governor.hashProposal(targets, [0n], calldatas, ethers.id(description));
      expect(await governor.proposalNeedsQueuing(id)).to.equal(true);
      await time.increase(HOUR + 1n);
      await governor.connect(whale).castVote(id, Vote.For);
      await governor.connect(against).castVote(id, Vote.Abstain);
      await time.increase(7n * DAY);
      await governor.queue(targets, [0n], calldatas, ethers.id(description));
      await time.increase(2n * DAY);
      return governor.execute(targets, [0n], calldatas, ethers.id(description));
    };
    expect(await governor.proposalThreshold()).to.equal(0n);
    await expect(pass(proposer, 2_500n, "a 25 % margin"))
      .to.emit(governor, "ApprovalMarginSet")
      .withArgs(1_000n, 2_500n);
    expect(await governor.approvalMarginBps()).to.equal(2_500n);
    await expect(pass(whale, 10_001n, "an impossible margin"))
      .to.be.revertedWithCustomError(governor, "TMAIGovernorInvalidMargin")
      .withArgs(10_001n);
  });

  it("lets the proposer cancel a proposal before voting starts", async () => {
    const { governor, stakingScore, proposer } = await networkHelpers.loadFixture(governanceFixture);
    const p = await setThresholdsProposal(stakingScore, DEFAULT_THRESHOLDS);
    await governor.connect(proposer).propose(p.targets, p.values, p.calldatas, "oops");
    const hash = ethers.id("oops");
    const id = await governor.hashProposal(p.targets, p.values, p.calldatas, hash);
    await governor.connect(proposer).cancel(p.targets, p.values, p.calldatas, hash);
    expect(await governor.state(id)).to.equal(2n); // Canceled
  });
});
