// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IVotingEscrow} from "./interfaces/IVotingEscrow.sol";
import {LockMath} from "./libraries/LockMath.sol";

/// @title VotingEscrow — veTMAI
/// @notice See `IVotingEscrow` for the specification, `VOTINGESCROW.md` for the lock's states and transitions and
/// `PERMISSIONS.md` for who may call what.
/// @dev Storage, one slot per checkpoint:
/// - per account, the current lock with its checkpoint index in one slot (`_locks`), and the earlier checkpoints
///   `{amount, end, ts, permanent}` (`_userPointHistory`); a change at a new timestamp moves the current lock
///   into the history, so a first lock writes a single slot;
/// - a global checkpoint `{bias, slope, ts}` per timestamp at which any lock changed;
/// - per week boundary, the amounts and slopes that expire there.
/// The global line is brought forward lazily: a checkpoint walks the week boundaries since the previous one
/// (at most 52, since every lock ends within `MAXTIME`) instead of writing a point for every idle week.
contract VotingEscrow is IVotingEscrow, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev The current lock of an account (its latest checkpoint) and that checkpoint's index, in one slot.
    /// 40-bit times last until the year 36812; a 40-bit index cannot be exhausted by `depositFor` spam (one
    /// checkpoint per block: 10^12 blocks), so no one can block another account's lock changes or withdrawal.
    struct CurrentLock {
        uint128 amount;
        uint40 end;
        uint40 ts;
        bool permanent;
        uint40 epoch;
    }

    /// @inheritdoc IVotingEscrow
    uint256 public constant WEEK = LockMath.WEEK;

    /// @inheritdoc IVotingEscrow
    uint256 public constant MAXTIME = LockMath.MAXTIME;

    /// @dev Week boundaries a walk of the global line may cross: every lock ends within `MAXTIME`.
    uint256 private constant _MAX_WEEKS = MAXTIME / WEEK;

    /// @inheritdoc IVotingEscrow
    IERC20 public immutable token;

    uint8 private immutable _decimals;

    /// @dev Packed in one slot: `_totalLocked` and `_epoch` change on most calls, and `_firstTs` (the timestamp
    /// of global checkpoint 1) comes free with `_epoch` when a history search needs it.
    uint128 private _totalLocked;
    uint80 private _epoch;
    uint48 private _firstTs;

    mapping(uint256 index => GlobalPoint) private _pointHistory;
    mapping(uint256 weekBoundary => Expiry) private _expiries;
    mapping(address account => CurrentLock) private _locks;
    /// @dev Checkpoints `1 … epoch − 1` of each account; checkpoint `epoch` is `_locks[account]`.
    mapping(address account => mapping(uint256 index => UserPoint)) private _userPointHistory;

    /// @param token_ The token to lock (TMAI). Its `decimals` become veTMAI's.
    constructor(IERC20 token_) {
        token = token_;
        _decimals = IERC20Metadata(address(token_)).decimals();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Metadata
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IVotingEscrow
    function name() external pure returns (string memory) {
        return "Vote-escrowed TMAI";
    }

    /// @inheritdoc IVotingEscrow
    function symbol() external pure returns (string memory) {
        return "veTMAI";
    }

    /// @inheritdoc IVotingEscrow
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Locks
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IVotingEscrow
    function createLock(uint256 amount, uint256 unlockTime) external nonReentrant {
        _createLock(amount, unlockTime);
    }

    /// @inheritdoc IVotingEscrow
    function createLockWithPermit(
        uint256 amount,
        uint256 unlockTime,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        // A permit seen in the mempool can be submitted by anyone first; then this call fails but the allowance
        // is in place, so the lock goes ahead (OpenZeppelin's recommended pattern). Without an allowance the
        // transfer reverts with the token's own error.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _createLock(amount, unlockTime);
    }

    /// @inheritdoc IVotingEscrow
    function increaseAmount(uint256 amount) external nonReentrant {
        _deposit(msg.sender, amount);
    }

    /// @inheritdoc IVotingEscrow
    function depositFor(address account, uint256 amount) external nonReentrant {
        _deposit(account, amount);
    }

    /// @inheritdoc IVotingEscrow
    function increaseUnlockTime(uint256 unlockTime) external nonReentrant {
        UserPoint memory lock = _liveLock(msg.sender);
        if (lock.permanent) revert VotingEscrowLockPermanent(msg.sender);
        uint256 end = _checkedUnlockTime(unlockTime);
        if (end <= lock.end) revert VotingEscrowUnlockTimeNotIncreased(end, lock.end);

        _checkpoint(msg.sender, lock, _point(lock.amount, end, false));
    }

    /// @inheritdoc IVotingEscrow
    function lockPermanent() external nonReentrant {
        UserPoint memory lock = _liveLock(msg.sender);
        if (lock.permanent) revert VotingEscrowLockPermanent(msg.sender);

        _checkpoint(msg.sender, lock, _point(lock.amount, 0, true));
    }

    /// @inheritdoc IVotingEscrow
    function unlockPermanent() external nonReentrant {
        UserPoint memory lock = _existingLock(msg.sender);
        if (!lock.permanent) revert VotingEscrowLockNotPermanent(msg.sender);

        _checkpoint(msg.sender, lock, _point(lock.amount, LockMath.floorToWeek(block.timestamp + MAXTIME), false));
    }

    /// @inheritdoc IVotingEscrow
    function withdraw() external nonReentrant {
        UserPoint memory lock = _existingLock(msg.sender);
        if (lock.permanent) revert VotingEscrowLockPermanent(msg.sender);
        if (block.timestamp < lock.end) revert VotingEscrowLockNotExpired(msg.sender, lock.end);

        // Safe: `lock.amount` is part of `_totalLocked`.
        unchecked {
            _totalLocked -= lock.amount;
        }
        // The expired lock left the global line at its end: only the account's own history changes.
        _writeUserPoint(msg.sender, lock, _point(0, 0, false));
        emit Withdrawn(msg.sender, lock.amount);
        token.safeTransfer(msg.sender, lock.amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IVotingEscrow
    function locked(address account) external view returns (uint256 amount, uint256 end, bool permanent) {
        UserPoint memory lock = _latestLock(account);
        return (lock.amount, lock.end, lock.permanent);
    }

    /// @inheritdoc IVotingEscrow
    function balanceOf(address account) public view returns (uint256) {
        UserPoint memory lock = _latestLock(account);
        return LockMath.balanceAt(lock.amount, lock.end, lock.permanent, block.timestamp);
    }

    /// @inheritdoc IVotingEscrow
    function balanceOfAt(address account, uint256 timestamp) public view returns (uint256) {
        CurrentLock memory current = _locks[account];
        UserPoint memory point = _toPoint(current);
        // Most lookups are for recent times: the current lock answers them without a search.
        if (current.ts > timestamp) {
            uint256 index = _findCheckpoint(account, current.epoch, current.ts, timestamp, _userPointTs);
            if (index == 0) return 0;
            point = _userPointHistory[account][index];
        }
        return LockMath.balanceAt(point.amount, point.end, point.permanent, timestamp);
    }

    /// @inheritdoc IVotingEscrow
    function totalSupply() external view returns (uint256) {
        return totalSupplyAt(block.timestamp);
    }

    /// @inheritdoc IVotingEscrow
    function totalSupplyAt(uint256 timestamp) public view returns (uint256) {
        uint256 latest = _epoch;
        GlobalPoint memory point = _pointHistory[latest];
        if (point.ts > timestamp) {
            uint256 index = _findCheckpoint(address(0), latest, point.ts, timestamp, _globalPointTs);
            if (index == 0) return 0;
            point = _pointHistory[index];
        }
        (uint256 bias, ) = _globalLineAt(point, timestamp);
        return bias;
    }

    /// @inheritdoc IVotingEscrow
    function totalLocked() external view returns (uint256) {
        return _totalLocked;
    }

    /// @inheritdoc IVotingEscrow
    function userPointEpoch(address account) external view returns (uint256) {
        return _locks[account].epoch;
    }

    /// @inheritdoc IVotingEscrow
    function userPointHistory(address account, uint256 index) external view returns (UserPoint memory) {
        CurrentLock memory current = _locks[account];
        if (index != 0 && index == current.epoch) return _toPoint(current);
        return _userPointHistory[account][index];
    }

    /// @inheritdoc IVotingEscrow
    function epoch() external view returns (uint256) {
        return _epoch;
    }

    /// @inheritdoc IVotingEscrow
    function pointHistory(uint256 index) external view returns (GlobalPoint memory) {
        return _pointHistory[index];
    }

    /// @inheritdoc IVotingEscrow
    function slopeChanges(uint256 time) external view returns (Expiry memory) {
        return _expiries[time];
    }

    // ---------------------------------------------------------------------------------------------------------
    // IERC6372 / IERC5805 (governance)
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The block timestamp: votes are measured in time, not blocks.
    function clock() public view returns (uint48) {
        return Time.timestamp();
    }

    /// @notice "mode=timestamp" (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Votes of `account` now: its veTMAI balance.
    function getVotes(address account) external view returns (uint256) {
        return balanceOf(account);
    }

    /// @notice Votes of `account` at the past `timepoint`: its veTMAI balance then.
    /// @dev Reverts with `ERC5805FutureLookup` for `timepoint >= clock()`, as OpenZeppelin's `Votes` does.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        _requirePast(timepoint);
        return balanceOfAt(account, timepoint);
    }

    /// @notice Total votes at the past `timepoint`: the veTMAI total supply then.
    /// @dev Reverts with `ERC5805FutureLookup` for `timepoint >= clock()`.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        _requirePast(timepoint);
        return totalSupplyAt(timepoint);
    }

    /// @notice Every account is its own delegate.
    function delegates(address account) external pure returns (address) {
        return account;
    }

    /// @notice Always reverts with `VotingEscrowDelegationDisabled`: votes stay with the lock owner.
    function delegate(address) external pure {
        revert VotingEscrowDelegationDisabled();
    }

    /// @notice Always reverts with `VotingEscrowDelegationDisabled`: votes stay with the lock owner.
    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) external pure {
        revert VotingEscrowDelegationDisabled();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals: lock changes
    // ---------------------------------------------------------------------------------------------------------

    function _createLock(uint256 amount, uint256 unlockTime) private {
        if (amount == 0) revert VotingEscrowZeroAmount();
        UserPoint memory lock = _latestLock(msg.sender);
        if (lock.amount != 0) revert VotingEscrowLockExists(msg.sender, lock.amount, lock.end);
        uint256 end = _checkedUnlockTime(unlockTime);

        _totalLocked = (_totalLocked + amount).toUint128();
        _checkpoint(msg.sender, lock, _point(amount, end, false));
        _pull(amount);
    }

    /// @dev Adds `amount` tokens of the caller to the live or permanent lock of `account`.
    function _deposit(address account, uint256 amount) private {
        if (amount == 0) revert VotingEscrowZeroAmount();
        UserPoint memory lock = _liveLock(account);

        _totalLocked = (_totalLocked + amount).toUint128();
        _checkpoint(account, lock, _point(lock.amount + amount, lock.end, lock.permanent));
        _pull(amount);
    }

    /// @dev Moves the global line and the account's history from `oldLock` to `newLock`, then emits.
    function _checkpoint(address account, UserPoint memory oldLock, UserPoint memory newLock) private {
        _checkpointGlobal(oldLock, newLock);
        _writeUserPoint(account, oldLock, newLock);
    }

    /// @dev Brings the global line to now, replaces the contribution of `oldLock` by that of `newLock`, and
    /// records the result as the checkpoint of the current timestamp.
    function _checkpointGlobal(UserPoint memory oldLock, UserPoint memory newLock) private {
        uint256 epoch_ = _epoch;
        GlobalPoint memory last = _pointHistory[epoch_];
        (uint256 bias, uint256 slope) = _globalLineAt(last, block.timestamp);

        (uint256 oldValue, uint256 oldSlope) = _lineOf(oldLock);
        (uint256 newValue, uint256 newSlope) = _lineOf(newLock);
        _moveExpiry(oldLock, newLock);
        // The old lock's line is part of the global line: the result cannot underflow.
        bias = bias + newValue - oldValue;
        slope = slope + newSlope - oldSlope;

        GlobalPoint memory point = GlobalPoint(bias.toUint128(), slope.toUint80(), uint48(block.timestamp));
        if (epoch_ == 0 || last.ts != block.timestamp) {
            if (epoch_ == 0) _firstTs = point.ts;
            // Safe: one checkpoint per block at most, so `_epoch` cannot reach 2^80.
            unchecked {
                _epoch = uint80(++epoch_);
            }
        }
        _pointHistory[epoch_] = point;
    }

    /// @dev The value now and the slope of `lock`'s line (slope 0 for a permanent or expired lock).
    function _lineOf(UserPoint memory lock) private view returns (uint256 value, uint256 slope) {
        value = LockMath.balanceAt(lock.amount, lock.end, lock.permanent, block.timestamp);
        if (!lock.permanent && value != 0) slope = LockMath.slope(lock.amount);
    }

    /// @dev Moves a lock's amount and slope from the expiry of `oldLock`'s end week to that of `newLock`'s
    /// (either may be absent: no lock, permanent, or expired). One storage write per week touched.
    function _moveExpiry(UserPoint memory oldLock, UserPoint memory newLock) private {
        bool oldTimed = !oldLock.permanent && oldLock.end > block.timestamp;
        bool newTimed = !newLock.permanent && newLock.end > block.timestamp;
        uint256 oldSlope = LockMath.slope(oldLock.amount);
        uint256 newSlope = LockMath.slope(newLock.amount);
        if (oldTimed && newTimed && oldLock.end == newLock.end) {
            // Same week (a deposit): the amounts only grow.
            Expiry memory expiry = _expiries[newLock.end];
            // Safe: slopes are bounded by the global slope, checked to fit 80 bits in the same transaction.
            _expiries[newLock.end] = Expiry(
                expiry.amount + newLock.amount - oldLock.amount,
                uint128(expiry.slope + newSlope - oldSlope)
            );
            return;
        }
        if (oldTimed) {
            Expiry memory expiry = _expiries[oldLock.end];
            // Safe: the old lock was added to this expiry when it was written and has not expired yet.
            unchecked {
                _expiries[oldLock.end] = Expiry(expiry.amount - oldLock.amount, expiry.slope - uint128(oldSlope));
            }
        }
        if (newTimed) {
            Expiry memory expiry = _expiries[newLock.end];
            // Safe: as above.
            _expiries[newLock.end] = Expiry(expiry.amount + newLock.amount, uint128(expiry.slope + newSlope));
        }
    }

    /// @dev Records `newLock` as the account's checkpoint of the current timestamp and emits `LockUpdated`.
    /// `oldLock` is the account's current lock.
    function _writeUserPoint(address account, UserPoint memory oldLock, UserPoint memory newLock) private {
        uint256 epoch_ = _locks[account].epoch;
        // A change at a new timestamp keeps the previous checkpoint in the history; a second change in the same
        // block replaces it.
        if (epoch_ == 0 || oldLock.ts != block.timestamp) {
            if (epoch_ != 0) _userPointHistory[account][epoch_] = oldLock;
            ++epoch_;
        }
        // Safe: times are below 2^40 (year 36812) and the index grows by one per block at most.
        _locks[account] = CurrentLock(
            newLock.amount,
            uint40(newLock.end),
            uint40(newLock.ts),
            newLock.permanent,
            uint40(epoch_)
        );
        emit LockUpdated(account, newLock.amount, newLock.end, newLock.permanent);
    }

    /// @dev Pulls `amount` tokens from the caller and checks that exactly `amount` arrived.
    function _pull(uint256 amount) private {
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert VotingEscrowTransferAmountMismatch(amount, received);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals: reading
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The global line `(bias, slope)` at `t ≥ point.ts`, applying every expiry in `(point.ts, t]`.
    function _globalLineAt(GlobalPoint memory point, uint256 t) private view returns (uint256 bias, uint256 slope) {
        bias = point.bias;
        slope = point.slope;
        uint256 ts = point.ts;
        uint256 boundary = LockMath.floorToWeek(ts) + WEEK;
        // Loop bound: `_MAX_WEEKS` boundaries. Every lock in the line at `ts` ends by `ts + MAXTIME`, so after
        // that many boundaries the line is flat (permanent locks only) and the rest of the walk is skipped.
        // It also stops early when nothing is locked (`bias == 0`).
        for (uint256 i = 0; i < _MAX_WEEKS && boundary <= t && bias != 0; ++i) {
            Expiry memory expiry = _expiries[boundary];
            // Safe: the line is a sum of per-lock lines, each non-negative until its end, where its amount
            // and slope are taken out.
            unchecked {
                bias -= slope * (boundary - ts) + expiry.amount;
                slope -= expiry.slope;
            }
            ts = boundary;
            boundary += WEEK;
        }
        // Safe: as above; every lock still in the line ends after `t`.
        unchecked {
            bias -= slope * (t - ts);
        }
    }

    /// @dev Index of the latest checkpoint at or before `t` among checkpoints `1 … latest`, or 0 if none, where
    /// checkpoint `latest` is at `latestTs > t`. `tsAt(account, i)` reads the timestamp of checkpoint `i < latest`
    /// (`i == 1` only when `account` is not zero: the global first timestamp is kept in `_firstTs`). Timestamps
    /// strictly increase with the index.
    ///
    /// Interpolation search on the timestamps: checkpoints arrive roughly evenly in time, so an interpolated probe
    /// lands next to the answer (4–5 storage reads for a few hundred checkpoints at random times, where a binary
    /// search needs 8–9). After `log2(latest) + 1` interpolation probes it bisects, so an uneven spread (a burst
    /// of locks, then weeks of silence) costs at most 2 × log2(latest) + 2 probes.
    function _findCheckpoint(
        address account,
        uint256 latest,
        uint256 latestTs,
        uint256 t,
        function(address, uint256) view returns (uint256) tsAt
    ) private view returns (uint256) {
        if (latest < 2) return 0;
        uint256 low = 1;
        uint256 lowTs;
        if (account == address(0)) lowTs = _firstTs;
        else lowTs = tsAt(account, 1);
        if (lowTs > t) return 0;
        uint256 high = latest;
        uint256 highTs = latestTs;
        uint256 interpolations = Math.log2(latest) + 1;
        // Invariant: ts(low) <= t < ts(high). Loop bound: every iteration narrows (low, high) by at least one
        // index, and halves it once the interpolations are spent: at most 2 × log2(latest) + 2 iterations.
        while (high - low > 1) {
            uint256 mid;
            if (interpolations != 0) {
                // Safe: `interpolations` is not zero; t − lowTs < highTs − lowTs, so `mid` stays below `high`;
                // all terms are below 2^80.
                unchecked {
                    --interpolations;
                    mid = low + ((t - lowTs) * (high - low)) / (highTs - lowTs);
                }
                if (mid == low) ++mid;
            } else {
                mid = Math.average(low, high);
            }
            uint256 midTs = tsAt(account, mid);
            if (midTs <= t) (low, lowTs) = (mid, midTs);
            else (high, highTs) = (mid, midTs);
        }
        return low;
    }

    function _userPointTs(address account, uint256 index) private view returns (uint256) {
        return _userPointHistory[account][index].ts;
    }

    function _globalPointTs(address, uint256 index) private view returns (uint256) {
        return _pointHistory[index].ts;
    }

    function _latestLock(address account) private view returns (UserPoint memory) {
        return _toPoint(_locks[account]);
    }

    function _toPoint(CurrentLock memory current) private pure returns (UserPoint memory) {
        return UserPoint(current.amount, current.end, current.ts, current.permanent);
    }

    /// @dev The lock of `account`, which must exist (live, permanent or expired).
    function _existingLock(address account) private view returns (UserPoint memory lock) {
        lock = _latestLock(account);
        if (lock.amount == 0) revert VotingEscrowNoLock(account);
    }

    /// @dev The lock of `account`, which must be live or permanent.
    function _liveLock(address account) private view returns (UserPoint memory lock) {
        lock = _existingLock(account);
        if (!lock.permanent && lock.end <= block.timestamp) revert VotingEscrowLockExpired(account, lock.end);
    }

    /// @dev `unlockTime` rounded down to a week boundary; reverts unless it is in `(now, now + MAXTIME]`.
    function _checkedUnlockTime(uint256 unlockTime) private view returns (uint256 end) {
        end = LockMath.floorToWeek(unlockTime);
        if (end <= block.timestamp) revert VotingEscrowUnlockTimeNotInFuture(end, block.timestamp);
        uint256 maxEnd = block.timestamp + MAXTIME;
        if (end > maxEnd) revert VotingEscrowUnlockTimeTooLate(end, maxEnd);
    }

    /// @dev A checkpoint of the current timestamp. Callers pass an amount that fits in `_totalLocked` (128 bits)
    /// and an end at most `MAXTIME` from now, so the casts cannot truncate.
    function _point(uint256 amount, uint256 end, bool permanent) private view returns (UserPoint memory) {
        return UserPoint(uint128(amount), uint48(end), uint48(block.timestamp), permanent);
    }

    function _requirePast(uint256 timepoint) private view {
        uint48 now_ = clock();
        if (timepoint >= now_) revert ERC5805FutureLookup(timepoint, now_);
    }
}
