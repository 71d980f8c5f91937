// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotingEscrow} from "./IVotingEscrow.sol";

/// @title RevenueDistributor — stakers' share of platform revenue, by cumulative Merkle roots
/// @notice Each epoch the DAO computes off-chain what every staker has earned in total so far, per reward token, and
/// publishes the root of a Merkle tree over the leaves `(address account, address token, uint256 cumulativeAmount)`
/// — OpenZeppelin `StandardMerkleTree` encoding: `keccak256(bytes.concat(keccak256(abi.encode(account, token,
/// cumulativeAmount))))`. A claim pays `cumulativeAmount − claimed[account][token]`, so a staker may claim once
/// after many epochs, and a later root supersedes an earlier one without losing anything.
///
/// Lifecycle of a root:
///
/// | step | who | effect |
/// |------|-----|--------|
/// | `fund(token, amount)` | anyone (the DAO's treasury) | tokens in; `funded[token]` grows |
/// | `proposeRoot(root, reportHash, tokens, totals)` | a root proposer | pending; refused if a total is not funded |
/// |  |  | or decreases |
/// | `revokePendingRoot()` | owner or guardian, while pending | pending root dropped |
/// | `acceptRoot()` | anyone, `rootDelay` after the proposal | the root becomes claimable |
/// | `claim` / `claimMany` | anyone, for any account | pays the account (never anyone else) |
/// | `claimAndLock` | the account itself | its TMAI reward goes into its veTMAI lock (`depositFor`) |
///
/// Solvency: `totals` are the cumulative amounts the tree promises per token; a root is refused unless every total
/// is at most what was funded through `fund` (equivalently, total − claimed ≤ held), and a claim never pays past
/// the accepted total of its token. So the contract can always pay every leaf of the accepted root.
///
/// @dev Note: only tokens that arrive through `fund` count as funded; tokens sent directly stay in the contract and
/// cannot be distributed or recovered. Fee-on-transfer and rebasing tokens are refused by `fund`.
interface IRevenueDistributor {
    /// @notice A claim in a `claimMany` batch.
    struct Claim {
        address account;
        address token;
        uint256 cumulativeAmount;
        bytes32[] proof;
    }

    /// @notice `amount` of `token` was added by `from`; `funded` is the token's cumulative funding.
    event Funded(address indexed token, address indexed from, uint256 amount, uint256 funded);

    /// @notice `proposer` proposed `root` (report `reportHash`), claimable from `acceptableAt`.
    event RootProposed(bytes32 indexed root, bytes32 reportHash, address indexed proposer, uint256 acceptableAt);

    /// @notice The pending `root` was revoked by `by`.
    event RootRevoked(bytes32 indexed root, address indexed by);

    /// @notice `root` (report `reportHash`) became the claimable root.
    event RootAccepted(bytes32 indexed root, bytes32 reportHash);

    /// @notice `account` received `amount` of `token`; `locked` when it went into its veTMAI lock.
    event Claimed(address indexed account, address indexed token, uint256 amount, bool locked);

    /// @notice `account` may (or may no longer) propose roots.
    event RootProposerSet(address indexed account, bool allowed);

    /// @notice The guardian (who may revoke pending roots) is now `guardian`.
    event GuardianSet(address indexed guardian);

    /// @notice Roots become acceptable `delay` seconds after their proposal.
    event RootDelaySet(uint256 delay);

    /// @notice The caller may not propose roots.
    error RevenueDistributorNotRootProposer(address caller);

    /// @notice The caller is neither the owner nor the guardian.
    error RevenueDistributorNotOwnerOrGuardian(address caller);

    /// @notice `tokens` and `totals` differ in length, or are empty.
    error RevenueDistributorInvalidTotals(uint256 tokens, uint256 totals);

    /// @notice `tokens` must be strictly ascending addresses (no duplicates, no zero address); broken at `index`.
    error RevenueDistributorTokensNotSorted(uint256 index);

    /// @notice The root would promise `total` of `token`, but only `funded` was funded: fund it first.
    error RevenueDistributorInsolvent(address token, uint256 total, uint256 funded);

    /// @notice The cumulative total of `token` would fall from `previous` to `total`.
    error RevenueDistributorDecreasingTotal(address token, uint256 previous, uint256 total);

    /// @notice There is no pending root.
    error RevenueDistributorNoPendingRoot();

    /// @notice The pending root becomes acceptable at `acceptableAt`.
    error RevenueDistributorRootStillPending(uint256 acceptableAt);

    /// @notice No root has been accepted yet.
    error RevenueDistributorNoRoot();

    /// @notice The accepted root has no total for `token`.
    error RevenueDistributorUnknownToken(address token);

    /// @notice The leaf `(account, token, cumulativeAmount)` is not in the accepted root, or exceeds the token's total.
    error RevenueDistributorInvalidProof(address account, address token, uint256 cumulativeAmount);

    /// @notice `account` already claimed `cumulativeAmount` of `token`.
    error RevenueDistributorNothingToClaim(address account, address token, uint256 cumulativeAmount);

    /// @notice `account` has no live veTMAI lock to put the reward in: claim it with `claim` instead, or lock first.
    error RevenueDistributorNoLiveLock(address account);

    /// @notice `delay` is above the maximum root delay.
    error RevenueDistributorDelayTooLong(uint256 delay, uint256 maxDelay);

    /// @notice The token transferred `received` instead of `expected`.
    error RevenueDistributorTransferAmountMismatch(uint256 expected, uint256 received);

    /// @notice The longest delay the owner may set: 30 days.
    function MAX_ROOT_DELAY() external view returns (uint256);

    /// @notice The VotingEscrow that `claimAndLock` deposits into.
    function votingEscrow() external view returns (IVotingEscrow);

    /// @notice TMAI, the VotingEscrow's token.
    function tmai() external view returns (IERC20);

    /// @notice The claimable root (zero before the first acceptance).
    function root() external view returns (bytes32);

    /// @notice The hash of the report behind the claimable root.
    function reportHash() external view returns (bytes32);

    /// @notice When the claimable root was accepted.
    function rootAcceptedAt() external view returns (uint256);

    /// @notice The pending root, its report hash and when it becomes acceptable (all zero when none).
    function pendingRoot() external view returns (bytes32 root, bytes32 reportHash, uint256 acceptableAt);

    /// @notice Seconds between a proposal and its acceptance (default 2 days).
    function rootDelay() external view returns (uint256);

    /// @notice Who may revoke pending roots besides the owner.
    function guardian() external view returns (address);

    /// @notice Whether `account` may propose roots.
    function isRootProposer(address account) external view returns (bool);

    /// @notice Cumulative amount of `token` funded through `fund`.
    function funded(address token) external view returns (uint256);

    /// @notice Cumulative amount of `token` promised by the accepted root.
    function acceptedTotal(address token) external view returns (uint256);

    /// @notice Cumulative amount of `token` already paid to `account`.
    function claimed(address account, address token) external view returns (uint256);

    /// @notice Pulls `amount` of `token` from the caller (approve first) and adds it to the funds.
    function fund(IERC20 token, uint256 amount) external;

    /// @notice Proposes `root`; `totals[i]` is the cumulative total of `tokens[i]` it promises (ascending tokens).
    function proposeRoot(bytes32 root, bytes32 reportHash, address[] calldata tokens, uint256[] calldata totals)
        external;

    /// @notice Makes the pending root claimable, once `rootDelay` has passed since its proposal. Anyone may call.
    function acceptRoot() external;

    /// @notice Drops the pending root. Owner or guardian.
    function revokePendingRoot() external;

    /// @notice Pays `account` its unclaimed `token`. Anyone may call; the tokens go to `account` only.
    function claim(address account, address token, uint256 cumulativeAmount, bytes32[] calldata proof) external;

    /// @notice `claim` for a batch.
    function claimMany(Claim[] calldata claims) external;

    /// @notice Puts the caller's unclaimed TMAI into its live veTMAI lock (the "reinvest" option).
    function claimAndLock(uint256 cumulativeAmount, bytes32[] calldata proof) external;

    /// @notice Allows or disallows `account` to propose roots. Owner only.
    function setRootProposer(address account, bool allowed) external;

    /// @notice Sets the guardian. Owner only.
    function setGuardian(address newGuardian) external;

    /// @notice Sets the root delay (at most `MAX_ROOT_DELAY`). Owner only.
    function setRootDelay(uint256 delay) external;
}
