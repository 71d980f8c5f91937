// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IVotingEscrow} from "./IVotingEscrow.sol";

/// @title Staking Score — a level 0–10 from veTMAI
/// @notice Ten strictly ascending thresholds in veTMAI define the levels: an account's level is the number of
/// thresholds its veTMAI balance reaches (`balance ≥ threshold`), so 0 below the first threshold and 10 at or
/// above the last. Levels map to tiers: 0 Basic (free), 1–3 Advanced, 4–6 Premium, 7–10 VIP.
///
/// The thresholds are set by the owner (the DAO's Timelock) and versioned by timestamp: `levelOfAt(account, t)`
/// combines the account's veTMAI at `t` with the thresholds in force at `t`, so a snapshot taken for an
/// allocation or a vote never changes afterwards. The thresholds given at deployment apply to all earlier times.
///
/// Defaults (vendor table, veTMAI with 18 decimals): 22,000 · 111,000 · 222,000 · 444,000 · 888,000 ·
/// 1,333,000 · 3,333,000 · 4,444,000 · 5,555,000 · 7,777,000.
///
/// @dev Note: a level lost by decay is lost at the second the balance crosses below its threshold; nothing is
/// written on-chain when that happens. Off-chain readers compute it from the lock and the thresholds.
interface IStakingScore {
    /// @notice New thresholds are in force from the block in which this is emitted.
    event ThresholdsUpdated(uint256[10] thresholds);

    /// @notice The first threshold is zero; level 1 must require some veTMAI.
    error StakingScoreZeroThreshold();

    /// @notice `thresholds[index]` (`value`) is not greater than `thresholds[index − 1]` (`previous`).
    error StakingScoreThresholdsNotAscending(uint256 index, uint256 previous, uint256 value);

    /// @notice `level` is above `MAX_LEVEL`.
    error StakingScoreInvalidLevel(uint8 level);

    /// @notice The highest level, 10.
    function MAX_LEVEL() external view returns (uint8);

    /// @notice The VotingEscrow whose balances are scored.
    function ve() external view returns (IVotingEscrow);

    /// @notice The thresholds in force now.
    function thresholds() external view returns (uint256[10] memory);

    /// @notice The thresholds in force at `timestamp`.
    function thresholdsAt(uint256 timestamp) external view returns (uint256[10] memory);

    /// @notice Replaces the thresholds from now on. Owner only; strictly ascending, the first non-zero.
    function setThresholds(uint256[10] calldata newThresholds) external;

    /// @notice The level of `account` now.
    function levelOf(address account) external view returns (uint8);

    /// @notice The level of `account` at `timestamp`: its veTMAI then, against the thresholds in force then.
    function levelOfAt(address account, uint256 timestamp) external view returns (uint8);

    /// @notice The level a veTMAI balance of `veBalance` reaches under the current thresholds.
    function levelOfBalance(uint256 veBalance) external view returns (uint8);

    /// @notice The tier of a level: 0 Basic (level 0), 1 Advanced (1–3), 2 Premium (4–6), 3 VIP (7–10).
    function tierOfLevel(uint8 level) external pure returns (uint8);
}
