// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestTMAI} from "../contracts/dev/TestTMAI.sol";
import {FeeOnTransferToken} from "../contracts/dev/mocks/FeeOnTransferToken.sol";
import {IRevenueDistributor} from "../contracts/interfaces/IRevenueDistributor.sol";
import {RevenueDistributor} from "../contracts/RevenueDistributor.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Shared setup: a distributor owned by the DAO, an operator who proposes, a guardian, two reward tokens.
abstract contract DistributorFixture is EscrowFixture {
    address internal constant OPERATOR = address(0x0FE7);
    address internal constant GUARDIAN = address(0x6A4D);
    RevenueDistributor internal distributor;
    TestTMAI internal usdc;

    function setUp() public virtual override {
        super.setUp();
        usdc = new TestTMAI(address(this));
        address[] memory proposers = new address[](1);
        proposers[0] = OPERATOR;
        distributor = new RevenueDistributor(ve, DAO, GUARDIAN, proposers);
        tmai.approve(address(distributor), type(uint256).max);
        usdc.approve(address(distributor), type(uint256).max);
    }

    function fundBoth(uint256 amount) internal {
        tmai.mint(address(this), amount);
        usdc.mint(address(this), amount);
        distributor.fund(tmai, amount);
        distributor.fund(usdc, amount);
    }

    /// @dev Token addresses ascending, as proposeRoot wants them.
    function sortedTokens() internal view returns (address[] memory tokens) {
        tokens = new address[](2);
        (tokens[0], tokens[1]) = address(tmai) < address(usdc)
            ? (address(tmai), address(usdc))
            : (address(usdc), address(tmai));
    }

    function totalsOf(uint256 tmaiTotal, uint256 usdcTotal) internal view returns (uint256[] memory totals) {
        totals = new uint256[](2);
        (totals[0], totals[1]) = address(tmai) < address(usdc) ? (tmaiTotal, usdcTotal) : (usdcTotal, tmaiTotal);
    }

    function proposeAndAccept(bytes32 root, uint256 tmaiTotal, uint256 usdcTotal) internal {
        vm.prank(OPERATOR);
        distributor.proposeRoot(root, keccak256(abi.encode(root)), sortedTokens(), totalsOf(tmaiTotal, usdcTotal));
        vm.warp(block.timestamp + distributor.rootDelay());
        distributor.acceptRoot();
    }
}

/// @notice Unit tests: every function and every revert of RevenueDistributor.
contract RevenueDistributorTest is DistributorFixture {
    event Claimed(address indexed account, address indexed token, uint256 amount, bool locked);
    event RootProposed(bytes32 indexed root, bytes32 reportHash, address indexed proposer, uint256 acceptableAt);

    bytes32[] internal leaves;

    /// @dev Alice: 100 TMAI + 50 USDC, Bob: 300 TMAI, Carol: 25 USDC.
    function buildTree() internal returns (bytes32 root) {
        delete leaves;
        leaves.push(MerkleHelper.leaf(ALICE, address(tmai), 100 * E18));
        leaves.push(MerkleHelper.leaf(ALICE, address(usdc), 50 * E18));
        leaves.push(MerkleHelper.leaf(BOB, address(tmai), 300 * E18));
        leaves.push(MerkleHelper.leaf(CAROL, address(usdc), 25 * E18));
        return MerkleHelper.root(leaves);
    }

    function test_constructor_setsRoles() public view {
        vm.assertEq(address(distributor.votingEscrow()), address(ve));
        vm.assertEq(address(distributor.tmai()), address(tmai));
        vm.assertEq(distributor.owner(), DAO);
        vm.assertEq(distributor.guardian(), GUARDIAN);
        vm.assertEq(distributor.isRootProposer(OPERATOR), true);
        vm.assertEq(distributor.rootDelay(), 2 days);
        vm.assertEq(distributor.MAX_ROOT_DELAY(), 30 days);
    }

    function test_fund_countsFunding() public {
        fundBoth(1_000 * E18);
        vm.assertEq(distributor.funded(address(tmai)), 1_000 * E18);
        vm.assertEq(tmai.balanceOf(address(distributor)), 1_000 * E18);
    }

    function test_fund_refusesFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(address(this), 1_000);
        fee.approve(address(distributor), 1_000);
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorTransferAmountMismatch.selector, 1_000, 990)
        );
        distributor.fund(IERC20(address(fee)), 1_000);
    }

    function test_proposeRoot_storesPending() public {
        fundBoth(1_000 * E18);
        bytes32 root = buildTree();
        vm.expectEmit(address(distributor));
        emit RootProposed(root, bytes32(uint256(7)), OPERATOR, block.timestamp + 2 days);
        vm.prank(OPERATOR);
        distributor.proposeRoot(root, bytes32(uint256(7)), sortedTokens(), totalsOf(400 * E18, 75 * E18));
        (bytes32 pending, bytes32 hash, uint256 acceptableAt) = distributor.pendingRoot();
        vm.assertEq(uint256(pending), uint256(root));
        vm.assertEq(uint256(hash), 7);
        vm.assertEq(acceptableAt, block.timestamp + 2 days);
        vm.assertEq(uint256(distributor.root()), 0);
    }

    function test_proposeRoot_revertsForNonProposer() public {
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorNotRootProposer.selector, address(this))
        );
        distributor.proposeRoot(bytes32(0), bytes32(0), sortedTokens(), totalsOf(0, 0));
    }

    function test_proposeRoot_revertsOnBadTotals() public {
        vm.startPrank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorInvalidTotals.selector, 2, 1));
        distributor.proposeRoot(bytes32(0), bytes32(0), sortedTokens(), new uint256[](1));
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorInvalidTotals.selector, 0, 0));
        distributor.proposeRoot(bytes32(0), bytes32(0), new address[](0), new uint256[](0));

        address[] memory tokens = sortedTokens();
        (tokens[0], tokens[1]) = (tokens[1], tokens[0]);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorTokensNotSorted.selector, 1));
        distributor.proposeRoot(bytes32(0), bytes32(0), tokens, totalsOf(0, 0));
        tokens[1] = tokens[0];
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorTokensNotSorted.selector, 1));
        distributor.proposeRoot(bytes32(0), bytes32(0), tokens, totalsOf(0, 0));
        tokens[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorTokensNotSorted.selector, 0));
        distributor.proposeRoot(bytes32(0), bytes32(0), tokens, totalsOf(0, 0));
        vm.stopPrank();
    }

    function test_proposeRoot_refusesInsolventRoot() public {
        fundBoth(100 * E18);
        vm.prank(OPERATOR);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRevenueDistributor.RevenueDistributorInsolvent.selector,
                address(tmai),
                100 * E18 + 1,
                100 * E18
            )
        );
        distributor.proposeRoot(bytes32(uint256(1)), bytes32(0), sortedTokens(), totalsOf(100 * E18 + 1, 0));
    }

    function test_proposeRoot_refusesDecreasingTotal() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        vm.prank(OPERATOR);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRevenueDistributor.RevenueDistributorDecreasingTotal.selector,
                address(usdc),
                75 * E18,
                74 * E18
            )
        );
        distributor.proposeRoot(bytes32(uint256(2)), bytes32(0), sortedTokens(), totalsOf(400 * E18, 74 * E18));
    }

    function test_acceptRoot_afterDelayOnly() public {
        fundBoth(1_000 * E18);
        vm.expectRevert(IRevenueDistributor.RevenueDistributorNoPendingRoot.selector);
        distributor.acceptRoot();
        bytes32 root = buildTree();
        vm.prank(OPERATOR);
        distributor.proposeRoot(root, bytes32(uint256(9)), sortedTokens(), totalsOf(400 * E18, 75 * E18));
        vm.warp(block.timestamp + 2 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorRootStillPending.selector, START + 2 days)
        );
        distributor.acceptRoot();
        vm.warp(START + 2 days);
        vm.prank(CAROL); // anyone
        distributor.acceptRoot();
        vm.assertEq(uint256(distributor.root()), uint256(root));
        vm.assertEq(uint256(distributor.reportHash()), 9);
        vm.assertEq(distributor.rootAcceptedAt(), START + 2 days);
        vm.assertEq(distributor.acceptedTotal(address(tmai)), 400 * E18);
        (, , uint256 acceptableAt) = distributor.pendingRoot();
        vm.assertEq(acceptableAt, 0);
    }

    function test_revokePendingRoot_byOwnerOrGuardianOnly() public {
        fundBoth(1_000 * E18);
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(OPERATOR);
            distributor.proposeRoot(buildTree(), bytes32(0), sortedTokens(), totalsOf(400 * E18, 75 * E18));
            vm.prank(i == 0 ? DAO : GUARDIAN);
            distributor.revokePendingRoot();
            (bytes32 pending, , ) = distributor.pendingRoot();
            vm.assertEq(uint256(pending), 0);
        }
        vm.prank(GUARDIAN);
        vm.expectRevert(IRevenueDistributor.RevenueDistributorNoPendingRoot.selector);
        distributor.revokePendingRoot();
        vm.prank(OPERATOR);
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorNotOwnerOrGuardian.selector, OPERATOR)
        );
        distributor.revokePendingRoot();
    }

    function test_claim_paysTheAccountOnce() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        uint256 before = tmai.balanceOf(BOB);
        vm.expectEmit(address(distributor));
        emit Claimed(BOB, address(tmai), 300 * E18, false);
        vm.prank(CAROL); // anyone may trigger; the tokens go to Bob
        distributor.claim(BOB, address(tmai), 300 * E18, MerkleHelper.proof(leaves, 2));
        vm.assertEq(tmai.balanceOf(BOB), before + 300 * E18);
        vm.assertEq(distributor.claimed(BOB, address(tmai)), 300 * E18);

        bytes32[] memory proof = MerkleHelper.proof(leaves, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRevenueDistributor.RevenueDistributorNothingToClaim.selector,
                BOB,
                address(tmai),
                300 * E18
            )
        );
        distributor.claim(BOB, address(tmai), 300 * E18, proof);
    }

    function test_claim_paysOnlyTheIncreaseOfALaterRoot() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        distributor.claim(ALICE, address(tmai), 100 * E18, MerkleHelper.proof(leaves, 0));
        // Next epoch: Alice's cumulative TMAI grows to 160.
        delete leaves;
        leaves.push(MerkleHelper.leaf(ALICE, address(tmai), 160 * E18));
        leaves.push(MerkleHelper.leaf(BOB, address(tmai), 300 * E18));
        proposeAndAccept(MerkleHelper.root(leaves), 460 * E18, 75 * E18);
        uint256 before = tmai.balanceOf(ALICE);
        distributor.claim(ALICE, address(tmai), 160 * E18, MerkleHelper.proof(leaves, 0));
        vm.assertEq(tmai.balanceOf(ALICE), before + 60 * E18);
    }

    function test_claim_revertsOnBadInput() public {
        bytes32[] memory empty;
        vm.expectRevert(IRevenueDistributor.RevenueDistributorNoRoot.selector);
        distributor.claim(ALICE, address(tmai), 1, empty);
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        bytes32[] memory proof = MerkleHelper.proof(leaves, 0);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorUnknownToken.selector, DAO));
        distributor.claim(ALICE, DAO, 100 * E18, proof);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRevenueDistributor.RevenueDistributorInvalidProof.selector,
                ALICE,
                address(tmai),
                101 * E18
            )
        );
        distributor.claim(ALICE, address(tmai), 101 * E18, proof);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRevenueDistributor.RevenueDistributorInvalidProof.selector,
                ALICE,
                address(tmai),
                500 * E18
            )
        );
        distributor.claim(ALICE, address(tmai), 500 * E18, proof);
    }

    function test_claimMany_paysABatch() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        IRevenueDistributor.Claim[] memory claims = new IRevenueDistributor.Claim[](3);
        claims[0] = IRevenueDistributor.Claim(ALICE, address(tmai), 100 * E18, MerkleHelper.proof(leaves, 0));
        claims[1] = IRevenueDistributor.Claim(ALICE, address(usdc), 50 * E18, MerkleHelper.proof(leaves, 1));
        claims[2] = IRevenueDistributor.Claim(CAROL, address(usdc), 25 * E18, MerkleHelper.proof(leaves, 3));
        distributor.claimMany(claims);
        vm.assertEq(usdc.balanceOf(ALICE), 50 * E18);
        vm.assertEq(usdc.balanceOf(CAROL), 25 * E18);
        vm.assertEq(distributor.claimed(ALICE, address(tmai)), 100 * E18);
    }

    function test_claimAndLock_relocksIntoTheCallersLock() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        lockAs(BOB, 1_000 * E18, block.timestamp + 10 * WEEK);
        (, uint256 end, ) = ve.locked(BOB);
        vm.expectEmit(address(distributor));
        emit Claimed(BOB, address(tmai), 300 * E18, true);
        vm.prank(BOB);
        distributor.claimAndLock(300 * E18, MerkleHelper.proof(leaves, 2));
        (uint256 amount, uint256 endAfter, ) = ve.locked(BOB);
        vm.assertEq(amount, 1_300 * E18);
        vm.assertEq(endAfter, end);
        vm.assertEq(tmai.allowance(address(distributor), address(ve)), 0);
    }

    function test_claimAndLock_worksWithAPermanentLock() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        lockAs(ALICE, 1_000 * E18, block.timestamp + 10 * WEEK);
        vm.startPrank(ALICE);
        ve.lockPermanent();
        distributor.claimAndLock(100 * E18, MerkleHelper.proof(leaves, 0));
        vm.stopPrank();
        vm.assertEq(ve.balanceOf(ALICE), 2 * 1_100 * E18);
    }

    function test_claimAndLock_revertsWithoutLiveLock() public {
        fundBoth(1_000 * E18);
        proposeAndAccept(buildTree(), 400 * E18, 75 * E18);
        bytes32[] memory proof = MerkleHelper.proof(leaves, 2);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorNoLiveLock.selector, BOB));
        distributor.claimAndLock(300 * E18, proof);
        lockAs(BOB, 1_000 * E18, block.timestamp + WEEK);
        vm.warp(block.timestamp + 2 * WEEK);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorNoLiveLock.selector, BOB));
        distributor.claimAndLock(300 * E18, proof);
    }

    function test_claimAndLock_revertsWhenTheRootHasNoTMAI() public {
        fundBoth(1_000 * E18);
        delete leaves;
        leaves.push(MerkleHelper.leaf(ALICE, address(usdc), 50 * E18));
        address[] memory tokens = new address[](1);
        tokens[0] = address(usdc);
        uint256[] memory totals = new uint256[](1);
        totals[0] = 50 * E18;
        vm.prank(OPERATOR);
        distributor.proposeRoot(MerkleHelper.root(leaves), bytes32(0), tokens, totals);
        vm.warp(block.timestamp + 2 days);
        distributor.acceptRoot();
        lockAs(ALICE, 1_000 * E18, block.timestamp + 10 * WEEK);
        bytes32[] memory proof = MerkleHelper.proof(leaves, 0);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorUnknownToken.selector, address(tmai))
        );
        distributor.claimAndLock(50 * E18, proof);
    }

    function test_settings_ownerOnly() public {
        vm.startPrank(DAO);
        distributor.setRootProposer(CAROL, true);
        distributor.setGuardian(CAROL);
        distributor.setRootDelay(30 days);
        vm.expectRevert(
            abi.encodeWithSelector(IRevenueDistributor.RevenueDistributorDelayTooLong.selector, 31 days, 30 days)
        );
        distributor.setRootDelay(31 days);
        vm.stopPrank();
        vm.assertEq(distributor.isRootProposer(CAROL), true);
        vm.assertEq(distributor.guardian(), CAROL);
        vm.assertEq(distributor.rootDelay(), 30 days);

        vm.startPrank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, OPERATOR));
        distributor.setRootProposer(OPERATOR, false);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, OPERATOR));
        distributor.setGuardian(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, OPERATOR));
        distributor.setRootDelay(0);
        vm.stopPrank();
    }

    /// @dev Random trees and random claim orders: every leaf pays exactly its amount, once.
    function testFuzz_claimsPayEachLeafOnceInAnyOrder(uint256 seed) public {
        uint256 n = 1 + (seed % 12);
        address[] memory accounts = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        delete leaves;
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            accounts[i] = address(uint160(0x1000 + i));
            amounts[i] = 1 + (uint256(keccak256(abi.encode(seed, i))) % (1_000_000 * E18));
            total += amounts[i];
            leaves.push(MerkleHelper.leaf(accounts[i], address(tmai), amounts[i]));
        }
        tmai.mint(address(this), total);
        distributor.fund(tmai, total);
        address[] memory tokens = new address[](1);
        tokens[0] = address(tmai);
        uint256[] memory totals = new uint256[](1);
        totals[0] = total;
        vm.prank(OPERATOR);
        distributor.proposeRoot(MerkleHelper.root(leaves), bytes32(0), tokens, totals);
        vm.warp(block.timestamp + 2 days);
        distributor.acceptRoot();

        // Claim in a random permutation, each twice (the second must revert).
        uint256[] memory order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) order[i] = i;
        for (uint256 i = n; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, "order", i))) % i;
            (order[i - 1], order[j]) = (order[j], order[i - 1]);
        }
        for (uint256 k = 0; k < n; ++k) {
            uint256 i = order[k];
            bytes32[] memory proof = MerkleHelper.proof(leaves, i);
            distributor.claim(accounts[i], address(tmai), amounts[i], proof);
            vm.assertEq(tmai.balanceOf(accounts[i]), amounts[i], "pays the leaf exactly");
            vm.expectRevert(
                abi.encodeWithSelector(
                    IRevenueDistributor.RevenueDistributorNothingToClaim.selector,
                    accounts[i],
                    address(tmai),
                    amounts[i]
                )
            );
            distributor.claim(accounts[i], address(tmai), amounts[i], proof);
        }
        vm.assertEq(tmai.balanceOf(address(distributor)), 0);
    }
}
