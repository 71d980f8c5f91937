// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRevenueDistributor} from "./interfaces/IRevenueDistributor.sol";
import {IVotingEscrow} from "./interfaces/IVotingEscrow.sol";

/// @title RevenueDistributor
/// @notice See `IRevenueDistributor`. Owned by the DAO's Timelock; root proposers are the DAO's operators; the
/// guardian may revoke a pending root. Nobody can take funded tokens out other than through claims.
contract RevenueDistributor is IRevenueDistributor, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc IRevenueDistributor
    uint256 public constant MAX_ROOT_DELAY = 30 days;

    /// @inheritdoc IRevenueDistributor
    IVotingEscrow public immutable votingEscrow;

    /// @inheritdoc IRevenueDistributor
    IERC20 public immutable tmai;

    /// @inheritdoc IRevenueDistributor
    bytes32 public root;

    /// @inheritdoc IRevenueDistributor
    bytes32 public reportHash;

    /// @inheritdoc IRevenueDistributor
    uint256 public rootAcceptedAt;

    /// @inheritdoc IRevenueDistributor
    uint256 public rootDelay = 2 days;

    /// @inheritdoc IRevenueDistributor
    address public guardian;

    bytes32 private _pendingRoot;
    bytes32 private _pendingReportHash;
    uint256 private _pendingAcceptableAt;
    address[] private _pendingTokens;
    uint256[] private _pendingTotals;

    /// @inheritdoc IRevenueDistributor
    mapping(address account => bool) public isRootProposer;

    /// @inheritdoc IRevenueDistributor
    mapping(address token => uint256) public funded;

    /// @inheritdoc IRevenueDistributor
    mapping(address token => uint256) public acceptedTotal;

    /// @inheritdoc IRevenueDistributor
    mapping(address account => mapping(address token => uint256)) public claimed;

    /// @param ve The VotingEscrow; its token is TMAI.
    /// @param initialOwner The DAO's Timelock.
    /// @param initialGuardian May revoke pending roots.
    /// @param proposers May propose roots.
    constructor(
        IVotingEscrow ve,
        address initialOwner,
        address initialGuardian,
        address[] memory proposers
    ) Ownable(initialOwner) {
        votingEscrow = ve;
        tmai = ve.token();
        _setGuardian(initialGuardian);
        // Loop bound: the proposers given at deployment.
        for (uint256 i = 0; i < proposers.length; ++i) _setRootProposer(proposers[i], true);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Funding and roots
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IRevenueDistributor
    function fund(IERC20 token, uint256 amount) external nonReentrant {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert RevenueDistributorTransferAmountMismatch(amount, received);
        uint256 total = funded[address(token)] + amount;
        funded[address(token)] = total;
        emit Funded(address(token), msg.sender, amount, total);
    }

    /// @inheritdoc IRevenueDistributor
    function proposeRoot(
        bytes32 newRoot,
        bytes32 newReportHash,
        address[] calldata tokens,
        uint256[] calldata totals
    ) external {
        if (!isRootProposer[msg.sender]) revert RevenueDistributorNotRootProposer(msg.sender);
        if (tokens.length != totals.length || tokens.length == 0) {
            revert RevenueDistributorInvalidTotals(tokens.length, totals.length);
        }
        // Loop bound: the tokens of the proposal (a handful of reward tokens).
        for (uint256 i = 0; i < tokens.length; ++i) {
            address token = tokens[i];
            if (token == address(0) || (i > 0 && token <= tokens[i - 1])) revert RevenueDistributorTokensNotSorted(i);
            uint256 total = totals[i];
            if (total > funded[token]) revert RevenueDistributorInsolvent(token, total, funded[token]);
            if (total < acceptedTotal[token]) {
                revert RevenueDistributorDecreasingTotal(token, acceptedTotal[token], total);
            }
        }
        uint256 acceptableAt = block.timestamp + rootDelay;
        _pendingRoot = newRoot;
        _pendingReportHash = newReportHash;
        _pendingAcceptableAt = acceptableAt;
        _pendingTokens = tokens;
        _pendingTotals = totals;
        emit RootProposed(newRoot, newReportHash, msg.sender, acceptableAt);
    }

    /// @inheritdoc IRevenueDistributor
    function acceptRoot() external {
        uint256 acceptableAt = _pendingAcceptableAt;
        if (acceptableAt == 0) revert RevenueDistributorNoPendingRoot();
        if (block.timestamp < acceptableAt) revert RevenueDistributorRootStillPending(acceptableAt);
        address[] memory tokens = _pendingTokens;
        uint256[] memory totals = _pendingTotals;
        // Loop bound: the tokens of the proposal. Totals were checked against funding when proposed, and funding
        // only grows, so they are still covered.
        for (uint256 i = 0; i < tokens.length; ++i) acceptedTotal[tokens[i]] = totals[i];
        root = _pendingRoot;
        reportHash = _pendingReportHash;
        rootAcceptedAt = block.timestamp;
        _clearPending();
        emit RootAccepted(root, reportHash);
    }

    /// @inheritdoc IRevenueDistributor
    function revokePendingRoot() external {
        if (msg.sender != owner() && msg.sender != guardian) revert RevenueDistributorNotOwnerOrGuardian(msg.sender);
        if (_pendingAcceptableAt == 0) revert RevenueDistributorNoPendingRoot();
        bytes32 revoked = _pendingRoot;
        _clearPending();
        emit RootRevoked(revoked, msg.sender);
    }

    /// @inheritdoc IRevenueDistributor
    function pendingRoot() external view returns (bytes32, bytes32, uint256) {
        return (_pendingRoot, _pendingReportHash, _pendingAcceptableAt);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Claims
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IRevenueDistributor
    function claim(
        address account,
        address token,
        uint256 cumulativeAmount,
        bytes32[] calldata proof
    ) external {
        // No reentrancy guard needed: the claim is recorded before the transfer, and a re-entered claim can only
        // pay another valid leaf.
        uint256 amount = _claim(account, token, cumulativeAmount, proof);
        emit Claimed(account, token, amount, false);
        IERC20(token).safeTransfer(account, amount);
    }

    /// @inheritdoc IRevenueDistributor
    function claimMany(Claim[] calldata claims) external {
        // Loop bound: the caller's batch.
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            uint256 amount = _claim(c.account, c.token, c.cumulativeAmount, c.proof);
            emit Claimed(c.account, c.token, amount, false);
            IERC20(c.token).safeTransfer(c.account, amount);
        }
    }

    /// @inheritdoc IRevenueDistributor
    function claimAndLock(uint256 cumulativeAmount, bytes32[] calldata proof) external nonReentrant {
        (uint256 lockedAmount, uint256 end, bool permanent) = votingEscrow.locked(msg.sender);
        bool live = lockedAmount != 0 && (permanent || end > block.timestamp);
        if (!live) revert RevenueDistributorNoLiveLock(msg.sender);
        uint256 amount = _claim(msg.sender, address(tmai), cumulativeAmount, proof);
        emit Claimed(msg.sender, address(tmai), amount, true);
        tmai.forceApprove(address(votingEscrow), amount);
        votingEscrow.depositFor(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Settings (owner)
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IRevenueDistributor
    function setRootProposer(address account, bool allowed) external onlyOwner {
        _setRootProposer(account, allowed);
    }

    /// @inheritdoc IRevenueDistributor
    function setGuardian(address newGuardian) external onlyOwner {
        _setGuardian(newGuardian);
    }

    /// @inheritdoc IRevenueDistributor
    function setRootDelay(uint256 delay) external onlyOwner {
        if (delay > MAX_ROOT_DELAY) revert RevenueDistributorDelayTooLong(delay, MAX_ROOT_DELAY);
        rootDelay = delay;
        emit RootDelaySet(delay);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Checks the leaf against the accepted root and the token's total; records and returns what is owed.
    function _claim(
        address account,
        address token,
        uint256 cumulativeAmount,
        bytes32[] calldata proof
    ) private returns (uint256 amount) {
        bytes32 currentRoot = root;
        if (currentRoot == bytes32(0)) revert RevenueDistributorNoRoot();
        uint256 total = acceptedTotal[token];
        if (total == 0) revert RevenueDistributorUnknownToken(token);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, token, cumulativeAmount))));
        if (cumulativeAmount > total || !MerkleProof.verifyCalldata(proof, currentRoot, leaf)) {
            revert RevenueDistributorInvalidProof(account, token, cumulativeAmount);
        }
        uint256 already = claimed[account][token];
        if (cumulativeAmount <= already) revert RevenueDistributorNothingToClaim(account, token, cumulativeAmount);
        claimed[account][token] = cumulativeAmount;
        // Safe: checked just above.
        unchecked {
            amount = cumulativeAmount - already;
        }
    }

    function _clearPending() private {
        delete _pendingRoot;
        delete _pendingReportHash;
        delete _pendingAcceptableAt;
        delete _pendingTokens;
        delete _pendingTotals;
    }

    function _setRootProposer(address account, bool allowed) private {
        isRootProposer[account] = allowed;
        emit RootProposerSet(account, allowed);
    }

    function _setGuardian(address newGuardian) private {
        guardian = newGuardian;
        emit GuardianSet(newGuardian);
    }
}
