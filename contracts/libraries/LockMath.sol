// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title LockMath — the veTMAI balance of one lock
/// @notice Pure functions shared by VotingEscrow and anything that needs to evaluate a lock off its storage
/// (tests, quoting tools). See `IVotingEscrow` for the formula.
library LockMath {
    /// @notice One week; unlock times are multiples of it.
    uint256 internal constant WEEK = 7 days;

    /// @notice The longest lock, 52 weeks: a full lock starts at ≈2× its amount.
    uint256 internal constant MAXTIME = 52 weeks;

    /// @notice veTMAI lost per second by a non-permanent lock of `amount` tokens, rounded down.
    /// @dev Rounding per lock is what lets the total supply, a sum of per-lock lines, match the sum of
    /// balances exactly.
    function slope(uint256 amount) internal pure returns (uint256) {
        return amount / MAXTIME;
    }

    /// @notice veTMAI of a lock `{amount, end, permanent}` at time `t`.
    function balanceAt(uint256 amount, uint256 end, bool permanent, uint256 t) internal pure returns (uint256) {
        if (permanent) return 2 * amount;
        if (t >= end) return 0;
        return amount + slope(amount) * (end - t);
    }

    /// @notice `t` rounded down to a week boundary.
    function floorToWeek(uint256 t) internal pure returns (uint256) {
        return (t / WEEK) * WEEK;
    }
}
