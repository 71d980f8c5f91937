// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title veTMAI — vote-escrowed TMAI
/// @notice A holder locks TMAI until a chosen week boundary, at most `MAXTIME` (52 weeks) ahead, and receives
/// veTMAI: a non-transferable balance that sets the holder's Staking Score, revenue share and votes.
///
/// Balance of a lock `{amount, end, permanent}` at time `t`, with `slope = amount / MAXTIME` rounded down:
///
/// | lock                       | balance at `t`                    |
/// |----------------------------|-----------------------------------|
/// | none                       | 0                                 |
/// | not permanent, `t < end`   | `amount + slope × (end − t)`      |
/// | not permanent, `t ≥ end`   | 0 (expired tokens are not staked) |
/// | permanent                  | `2 × amount`, no decay            |
///
/// A full 52-week lock therefore starts at ≈2.0× its amount and decays linearly to 1.0× just before `end`.
///
/// History is exact: every change of a lock writes a checkpoint, and `balanceOfAt` / `totalSupplyAt` answer
/// for any timestamp, before or after the latest checkpoint. `totalSupplyAt(t)` equals the sum of
/// `balanceOfAt(a, t)` over all accounts, to the unit, for every `t` (the slope is rounded per lock, and the
/// global line is the sum of the per-lock lines).
///
/// One lock per account. Locked tokens can leave the contract only through `withdraw` by their owner, after
/// `end`; there is no admin, no pause and no upgrade path.
///
/// Governance: implements IERC5805 / IERC6372 with a timestamp clock, so an unmodified OpenZeppelin Governor
/// reads votes from it. Votes stay with the lock owner: delegation is disabled.
///
/// @dev Note: the token must transfer exactly the requested amount. Fee-on-transfer tokens are refused
/// (`VotingEscrowTransferAmountMismatch`); rebasing tokens are not supported.
/// @dev Note: amounts are stored as 128-bit integers and the sum of all slopes as an 80-bit integer; a lock
/// that would push the totals past these bounds (≈3.8e31 base units, i.e. 3.8e13 tokens at 18 decimals)
/// reverts with OpenZeppelin's `SafeCastOverflowedUintDowncast`.
interface IVotingEscrow is IERC5805 {
    /// @notice A checkpoint of one account's lock, written at every change of the lock.
    /// @dev One storage slot. The balance at any `t ≥ ts` until the next checkpoint derives from it.
    /// @param amount Tokens locked (token units).
    /// @param end Unlock time, a multiple of `WEEK`; 0 when there is no lock and while the lock is permanent.
    /// @param ts Timestamp at which the checkpoint was written.
    /// @param permanent Whether the lock is permanent (`2 × amount`, no decay).
    struct UserPoint {
        uint128 amount;
        uint48 end;
        uint48 ts;
        bool permanent;
    }

    /// @notice A checkpoint of the sum of all locks, written at every change of any lock.
    /// @dev One storage slot. For `t ≥ ts` until the next checkpoint, the total supply is
    /// `bias − slope × (t − ts)`, minus, at every week boundary `w` in `(ts, t]`, the amounts of the locks that
    /// expire at `w` (and their slopes from then on): see `slopeChanges`.
    /// @param bias Total veTMAI at `ts`.
    /// @param slope Total decay per second at `ts` (sum of the slopes of the live, non-permanent locks).
    /// @param ts Timestamp at which the checkpoint was written.
    struct GlobalPoint {
        uint128 bias;
        uint80 slope;
        uint48 ts;
    }

    /// @notice What expires at one week boundary: the sum of the amounts and of the slopes of the locks whose
    /// `end` is that boundary.
    struct Expiry {
        uint128 amount;
        uint128 slope;
    }

    /// @notice Emitted on every change of a lock, with the lock after the change: `createLock`,
    /// `increaseAmount`, `increaseUnlockTime`, `depositFor`, `lockPermanent`, `unlockPermanent` and
    /// `withdraw` (which reports the cleared lock `(0, 0, false)`). An indexer can follow every lock from these
    /// events alone.
    event LockUpdated(address indexed account, uint256 amount, uint256 end, bool permanent);

    /// @notice Emitted when `account` withdraws `amount` tokens from its expired lock.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice An amount of zero was given where tokens must be deposited.
    error VotingEscrowZeroAmount();

    /// @notice The unlock time, rounded down to a week boundary, is not after the current time.
    error VotingEscrowUnlockTimeNotInFuture(uint256 roundedUnlockTime, uint256 currentTime);

    /// @notice The unlock time, rounded down to a week boundary, is more than `MAXTIME` after the current time.
    error VotingEscrowUnlockTimeTooLate(uint256 roundedUnlockTime, uint256 maxUnlockTime);

    /// @notice `increaseUnlockTime` was given an unlock time that, rounded down, is not after the current end.
    error VotingEscrowUnlockTimeNotIncreased(uint256 roundedUnlockTime, uint256 currentEnd);

    /// @notice `account` has no lock.
    error VotingEscrowNoLock(address account);

    /// @notice `account` already has a lock (possibly expired: withdraw it first).
    error VotingEscrowLockExists(address account, uint256 amount, uint256 end);

    /// @notice The lock of `account` expired at `end`: it can only be withdrawn.
    error VotingEscrowLockExpired(address account, uint256 end);

    /// @notice The lock of `account` expires at `end`, which has not been reached.
    error VotingEscrowLockNotExpired(address account, uint256 end);

    /// @notice The lock of `account` is permanent: call `unlockPermanent` first.
    error VotingEscrowLockPermanent(address account);

    /// @notice The lock of `account` is not permanent.
    error VotingEscrowLockNotPermanent(address account);

    /// @notice The token transferred `received` instead of `expected` (fee-on-transfer or rebasing token).
    error VotingEscrowTransferAmountMismatch(uint256 expected, uint256 received);

    /// @notice veTMAI cannot be delegated: votes stay with the lock owner.
    error VotingEscrowDelegationDisabled();

    /// @notice A past-votes lookup asked for `timepoint`, which is not before the current `clock`.
    /// @dev Same name and arguments as OpenZeppelin's `Votes`.
    error ERC5805FutureLookup(uint256 timepoint, uint48 clock);

    /// @notice One week in seconds; unlock times are multiples of it.
    function WEEK() external view returns (uint256);

    /// @notice The longest lock: 52 weeks.
    function MAXTIME() external view returns (uint256);

    /// @notice The locked token (TMAI).
    function token() external view returns (IERC20);

    /// @notice "Vote-escrowed TMAI".
    function name() external view returns (string memory);

    /// @notice "veTMAI".
    function symbol() external view returns (string memory);

    /// @notice The token's decimals.
    function decimals() external view returns (uint8);

    /// @notice Locks `amount` tokens of the caller until `unlockTime` rounded down to a week boundary.
    /// @dev Requires an allowance of `amount`. Reverts when the caller already has a lock (even an expired
    /// one), when `amount` is zero, or when the rounded unlock time is not in `(now, now + MAXTIME]`.
    function createLock(uint256 amount, uint256 unlockTime) external;

    /// @notice `createLock` with an EIP-2612 permit signed by the caller, so a wallet locks in one transaction.
    /// @dev If the permit fails (for example because someone submitted it first), the lock still succeeds
    /// when the allowance already covers `amount`.
    function createLockWithPermit(
        uint256 amount,
        uint256 unlockTime,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Adds `amount` tokens of the caller to the caller's live (or permanent) lock; the end is unchanged.
    function increaseAmount(uint256 amount) external;

    /// @notice Moves the end of the caller's live lock to `unlockTime` rounded down to a week boundary, which
    /// must be later than the current end and at most `now + MAXTIME`. Not for permanent locks.
    function increaseUnlockTime(uint256 unlockTime) external;

    /// @notice Adds `amount` tokens of the caller to the live (or permanent) lock of `account`. Anyone may call
    /// it; it is how a reward is re-locked. The lock's end and owner are unchanged.
    function depositFor(address account, uint256 amount) external;

    /// @notice Makes the caller's live lock permanent: `2 × amount`, no decay, no end (`end` becomes 0).
    function lockPermanent() external;

    /// @notice Ends the permanence of the caller's lock: it becomes a normal lock ending `MAXTIME` from now,
    /// rounded down to a week boundary.
    function unlockPermanent() external;

    /// @notice Returns all the caller's tokens once the lock has expired, and clears the lock.
    /// @dev Reverts while the lock is live or permanent.
    function withdraw() external;

    /// @notice The current lock of `account`.
    /// @return amount Tokens locked.
    /// @return end Unlock time, a multiple of `WEEK` (0 when there is no lock and while the lock is permanent).
    /// @return permanent Whether the lock is permanent.
    function locked(address account) external view returns (uint256 amount, uint256 end, bool permanent);

    /// @notice veTMAI of `account` now.
    function balanceOf(address account) external view returns (uint256);

    /// @notice veTMAI of `account` at `timestamp`, past or future (a future time assumes no further change).
    function balanceOfAt(address account, uint256 timestamp) external view returns (uint256);

    /// @notice Total veTMAI now.
    function totalSupply() external view returns (uint256);

    /// @notice Total veTMAI at `timestamp`, past or future (a future time assumes no further change).
    /// @dev Costs a search over the global checkpoints (interpolation on their timestamps, O(log n) at worst)
    /// plus one storage read per week boundary between the checkpoint found and `timestamp` (at most 52: every
    /// lock expires within `MAXTIME`).
    function totalSupplyAt(uint256 timestamp) external view returns (uint256);

    /// @notice Tokens held in locks, expired-but-not-withdrawn included.
    function totalLocked() external view returns (uint256);

    /// @notice Index of the latest checkpoint of `account` (0 when it never locked). Checkpoints are numbered
    /// from 1, as in Curve's VotingEscrow.
    function userPointEpoch(address account) external view returns (uint256);

    /// @notice The checkpoint of `account` at `index` (1 … `userPointEpoch(account)`; index 0 is empty).
    function userPointHistory(address account, uint256 index) external view returns (UserPoint memory);

    /// @notice Index of the latest global checkpoint (0 before the first lock). Numbered from 1.
    function epoch() external view returns (uint256);

    /// @notice The global checkpoint at `index` (1 … `epoch()`; index 0 is empty).
    function pointHistory(uint256 index) external view returns (GlobalPoint memory);

    /// @notice The amounts and slopes of the locks that expire at the week boundary `time`.
    function slopeChanges(uint256 time) external view returns (Expiry memory);
}
