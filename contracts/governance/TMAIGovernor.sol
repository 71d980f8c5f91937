// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IStakingScore} from "../interfaces/IStakingScore.sol";
import {ITMAIGovernor} from "../interfaces/ITMAIGovernor.sol";

/// @title TMAIGovernor
/// @notice OpenZeppelin Governor on veTMAI with Staking Score proposal rights and an approval margin; see
/// `ITMAIGovernor`. Defaults: voting delay 1 hour, voting period 7 days, quorum 10 % of the veTMAI supply at the
/// snapshot, margin 10 %. Every setting changes only through a proposal executed by the Timelock.
contract TMAIGovernor is
    ITMAIGovernor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @dev The most recent proposal times of one proposer, newest first (enough for the largest allowance).
    struct RecentProposals {
        uint48[4] times;
    }

    /// @inheritdoc ITMAIGovernor
    uint256 public constant PROPOSAL_WINDOW = 30 days;

    uint256 private constant _BPS = 10_000;

    /// @inheritdoc ITMAIGovernor
    IStakingScore public immutable stakingScore;

    uint256 private _approvalMarginBps = 1_000;
    mapping(address proposer => RecentProposals) private _recentProposals;

    /// @param ve The VotingEscrow (IERC5805, timestamp clock).
    /// @param score The StakingScore whose levels grant proposal rights.
    /// @param timelock The TimelockController that executes proposals.
    constructor(
        IVotes ve,
        IStakingScore score,
        TimelockController timelock
    )
        Governor("TMAI Governor")
        GovernorSettings(1 hours, 7 days, 0)
        GovernorVotes(ve)
        GovernorVotesQuorumFraction(10)
        GovernorTimelockControl(timelock)
    {
        stakingScore = score;
    }

    /// @inheritdoc ITMAIGovernor
    function proposalAllowance(uint8 level) public pure returns (uint256) {
        if (level == 0) return 0;
        if (level <= 3) return 1;
        if (level <= 6) return 2;
        if (level <= 8) return 3;
        return 4;
    }

    /// @inheritdoc ITMAIGovernor
    function nextProposalTime(address proposer) external view returns (uint256) {
        uint256 allowance = proposalAllowance(stakingScore.levelOfAt(proposer, clock() - 1));
        if (allowance == 0) return type(uint256).max;
        uint256 oldest = _recentProposals[proposer].times[allowance - 1];
        if (oldest == 0 || oldest + PROPOSAL_WINDOW <= block.timestamp) return block.timestamp;
        return oldest + PROPOSAL_WINDOW;
    }

    /// @inheritdoc ITMAIGovernor
    function approvalMarginBps() external view returns (uint256) {
        return _approvalMarginBps;
    }

    /// @inheritdoc ITMAIGovernor
    function setApprovalMargin(uint256 bps) external onlyGovernance {
        if (bps > _BPS) revert TMAIGovernorInvalidMargin(bps);
        emit ApprovalMarginSet(_approvalMarginBps, bps);
        _approvalMarginBps = bps;
    }

    /// @dev Checks the proposer's level and 30-day allowance, records the proposal time, then proposes.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256) {
        uint8 level = stakingScore.levelOfAt(proposer, clock() - 1);
        uint256 allowance = proposalAllowance(level);
        if (allowance == 0) revert TMAIGovernorLevelTooLow(proposer, level);
        RecentProposals storage recent = _recentProposals[proposer];
        // The allowance is used when the allowance-th most recent proposal is still inside the window.
        uint256 oldest = recent.times[allowance - 1];
        if (oldest != 0 && oldest + PROPOSAL_WINDOW > block.timestamp) {
            revert TMAIGovernorProposalAllowanceUsed(proposer, level, allowance, oldest + PROPOSAL_WINDOW);
        }
        // Loop bound: 3 shifts, newest first.
        for (uint256 i = 3; i > 0; --i) recent.times[i] = recent.times[i - 1];
        recent.times[0] = uint48(block.timestamp);
        return super._propose(targets, values, calldatas, description, proposer);
    }

    /// @dev For > Against and For − Against ≥ margin × (For + Against).
    function _voteSucceeded(
        uint256 proposalId
    ) internal view override(Governor, GovernorCountingSimple) returns (bool) {
        (uint256 againstVotes, uint256 forVotes, ) = proposalVotes(proposalId);
        if (forVotes <= againstVotes) return false;
        return (forVotes - againstVotes) * _BPS >= _approvalMarginBps * (forVotes + againstVotes);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Overrides required by Solidity for the OpenZeppelin extensions
    // ---------------------------------------------------------------------------------------------------------

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
