// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IStakingScore} from "./IStakingScore.sol";

/// @title TMAI Governor — what it adds to a stock OpenZeppelin Governor
/// @notice The DAO's Governor votes with veTMAI (timestamp clock), needs a quorum of 10 % of the veTMAI supply at
/// the snapshot, and executes through a TimelockController. It adds two rules:
///
/// **Proposal rights by Staking Score** (vendor table). The proposer's level is read from StakingScore at
/// `clock() − 1`; in any trailing 30 days a proposer may submit at most:
///
/// | level | proposals per 30 days |
/// |-------|-----------------------|
/// | 0     | none                  |
/// | 1–3   | 1                     |
/// | 4–6   | 2                     |
/// | 7–8   | 3                     |
/// | 9–10  | 4                     |
///
/// **Approval margin.** A proposal succeeds only if the quorum is met, For > Against, and
/// `For − Against ≥ approvalMarginBps × (For + Against) / 10,000` (default 1,000 bps: a 55/45 split passes,
/// 54/46 does not). The margin is set by governance.
interface ITMAIGovernor {
    /// @notice The approval margin changed from `oldBps` to `newBps`.
    event ApprovalMarginSet(uint256 oldBps, uint256 newBps);

    /// @notice `proposer` is at Staking Score `level`, which has no proposal rights (level 0).
    error TMAIGovernorLevelTooLow(address proposer, uint8 level);

    /// @notice `proposer` (level `level`) already submitted `allowance` proposals in the last 30 days; the next
    /// slot opens at `nextSlotAt`.
    error TMAIGovernorProposalAllowanceUsed(address proposer, uint8 level, uint256 allowance, uint256 nextSlotAt);

    /// @notice `bps` is above 10,000 (100 %).
    error TMAIGovernorInvalidMargin(uint256 bps);

    /// @notice The window of the proposal allowance: 30 days.
    function PROPOSAL_WINDOW() external view returns (uint256);

    /// @notice The Staking Score that grants proposal rights.
    function stakingScore() external view returns (IStakingScore);

    /// @notice Proposals a proposer at `level` may submit per 30 days.
    function proposalAllowance(uint8 level) external pure returns (uint256);

    /// @notice When `proposer`'s next proposal may be submitted at its current level: now if a slot is free,
    /// `type(uint256).max` at level 0.
    function nextProposalTime(address proposer) external view returns (uint256);

    /// @notice The approval margin in basis points of the For + Against votes.
    function approvalMarginBps() external view returns (uint256);

    /// @notice Sets the approval margin. Only through a governance proposal.
    function setApprovalMargin(uint256 bps) external;
}
