// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IStakingScore} from "./interfaces/IStakingScore.sol";
import {IVotingEscrow} from "./interfaces/IVotingEscrow.sol";

/// @title StakingScore
/// @notice See `IStakingScore`.
/// @dev Each version of the thresholds takes six slots (a timestamp and ten 128-bit values, two per slot);
/// reading a level costs five storage reads for the thresholds plus the VotingEscrow lookup.
contract StakingScore is IStakingScore, Ownable2Step {
    using SafeCast for uint256;

    struct Version {
        uint48 since;
        uint128[10] values;
    }

    /// @inheritdoc IStakingScore
    uint8 public constant MAX_LEVEL = 10;

    /// @inheritdoc IStakingScore
    IVotingEscrow public immutable ve;

    /// @dev Ascending by `since`; the first version has `since == 0` and applies to all earlier times.
    Version[] private _versions;

    /// @param ve_ The VotingEscrow to score.
    /// @param initialThresholds Strictly ascending, the first non-zero.
    /// @param initialOwner The account that may change the thresholds (the DAO's Timelock).
    constructor(IVotingEscrow ve_, uint256[10] memory initialThresholds, address initialOwner) Ownable(initialOwner) {
        ve = ve_;
        _store(_versions.push(), initialThresholds);
    }

    /// @inheritdoc IStakingScore
    function setThresholds(uint256[10] calldata newThresholds) external onlyOwner {
        Version storage latest = _versions[_versions.length - 1];
        // A second change in the same block replaces the first: one version per timestamp.
        if (latest.since == block.timestamp) {
            _store(latest, newThresholds);
            return;
        }
        Version storage next = _versions.push();
        next.since = Time.timestamp();
        _store(next, newThresholds);
    }

    /// @inheritdoc IStakingScore
    function thresholds() external view returns (uint256[10] memory) {
        return _widen(_versions[_versions.length - 1].values);
    }

    /// @inheritdoc IStakingScore
    function thresholdsAt(uint256 timestamp) external view returns (uint256[10] memory) {
        return _widen(_versionAt(timestamp).values);
    }

    /// @inheritdoc IStakingScore
    function levelOf(address account) external view returns (uint8) {
        return _level(ve.balanceOf(account), _versions[_versions.length - 1].values);
    }

    /// @inheritdoc IStakingScore
    function levelOfAt(address account, uint256 timestamp) external view returns (uint8) {
        return _level(ve.balanceOfAt(account, timestamp), _versionAt(timestamp).values);
    }

    /// @inheritdoc IStakingScore
    function levelOfBalance(uint256 veBalance) external view returns (uint8) {
        return _level(veBalance, _versions[_versions.length - 1].values);
    }

    /// @inheritdoc IStakingScore
    function tierOfLevel(uint8 level) external pure returns (uint8) {
        if (level > MAX_LEVEL) revert StakingScoreInvalidLevel(level);
        if (level == 0) return 0;
        if (level <= 3) return 1;
        if (level <= 6) return 2;
        return 3;
    }

    /// @dev Validates and stores `values` into `version`, then emits.
    function _store(Version storage version, uint256[10] memory values) private {
        if (values[0] == 0) revert StakingScoreZeroThreshold();
        // Loop bound: 10 thresholds.
        for (uint256 i = 0; i < MAX_LEVEL; ++i) {
            if (i > 0 && values[i] <= values[i - 1]) {
                revert StakingScoreThresholdsNotAscending(i, values[i - 1], values[i]);
            }
            version.values[i] = values[i].toUint128();
        }
        emit ThresholdsUpdated(values);
    }

    /// @dev The version in force at `timestamp`: the latest whose `since` is at or before it.
    function _versionAt(uint256 timestamp) private view returns (Version storage) {
        uint256 index = _versions.length - 1;
        // Loop bound: one iteration per version newer than `timestamp`. Versions come from governance votes
        // (days apart), and lookups are almost always for recent times.
        while (_versions[index].since > timestamp) --index;
        return _versions[index];
    }

    /// @dev The number of `values` that `veBalance` reaches.
    function _level(uint256 veBalance, uint128[10] memory values) private pure returns (uint8 level) {
        // Loop bound: 10 thresholds, ascending, so the scan stops at the first one not reached.
        while (level < MAX_LEVEL && veBalance >= values[level]) ++level;
    }

    function _widen(uint128[10] storage values) private view returns (uint256[10] memory widened) {
        // Loop bound: 10 thresholds.
        for (uint256 i = 0; i < MAX_LEVEL; ++i) widened[i] = values[i];
    }
}
