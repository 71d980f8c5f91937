// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FeeOnTransferToken} from "../contracts/dev/mocks/FeeOnTransferToken.sol";
import {IVotingEscrow} from "../contracts/interfaces/IVotingEscrow.sol";
import {VotingEscrow} from "../contracts/VotingEscrow.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Unit tests: every entry point, every view and every revert of VotingEscrow.
contract VotingEscrowTest is EscrowFixture {
    event LockUpdated(address indexed account, uint256 amount, uint256 end, bool permanent);
    event Withdrawn(address indexed account, uint256 amount);

    uint256 internal constant AMOUNT = 1_000 * E18;

    // ------------------------------------------------------------------ metadata and constants

    function test_metadata() public view {
        vm.assertEq(ve.name(), "Vote-escrowed TMAI");
        vm.assertEq(ve.symbol(), "veTMAI");
        vm.assertEq(uint256(ve.decimals()), 18);
        vm.assertEq(address(ve.token()), address(tmai));
        vm.assertEq(ve.WEEK(), 7 days);
        vm.assertEq(ve.MAXTIME(), 52 weeks);
    }

    function test_clock_isTimestamp() public {
        vm.assertEq(ve.CLOCK_MODE(), "mode=timestamp");
        vm.assertEq(uint256(ve.clock()), START);
        vm.warp(START + 123);
        vm.assertEq(uint256(ve.clock()), START + 123);
    }

    function test_delegates_isSelf() public view {
        vm.assertEq(ve.delegates(ALICE), ALICE);
    }

    function test_delegate_reverts() public {
        vm.expectRevert(IVotingEscrow.VotingEscrowDelegationDisabled.selector);
        ve.delegate(BOB);
    }

    function test_delegateBySig_reverts() public {
        vm.expectRevert(IVotingEscrow.VotingEscrowDelegationDisabled.selector);
        ve.delegateBySig(BOB, 0, block.timestamp, 27, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------------ createLock

    function test_createLock_locksAndRoundsEndDownToWeek() public {
        uint256 unlockTime = START + 26 weeks + 3 days;
        uint256 end = START + 26 weeks;
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, AMOUNT, end, false);
        lockAs(ALICE, AMOUNT, unlockTime);

        (uint256 amount, uint256 lockEnd, bool permanent) = ve.locked(ALICE);
        vm.assertEq(amount, AMOUNT);
        vm.assertEq(lockEnd, end);
        vm.assertEq(permanent, false);
        vm.assertEq(ve.balanceOf(ALICE), AMOUNT + (AMOUNT / MAXTIME) * 26 weeks);
        vm.assertEq(ve.totalSupply(), ve.balanceOf(ALICE));
        vm.assertEq(ve.totalLocked(), AMOUNT);
        vm.assertEq(tmai.balanceOf(address(ve)), AMOUNT);
        vm.assertEq(ve.getVotes(ALICE), ve.balanceOf(ALICE));
    }

    function test_createLock_fullYearGivesTwoX() public {
        lockAs(ALICE, AMOUNT, START + MAXTIME);
        // 2× up to the rounding of the slope (less than MAXTIME base units).
        vm.assertLe(ve.balanceOf(ALICE), 2 * AMOUNT, "at most 2x");
        vm.assertGe(ve.balanceOf(ALICE), 2 * AMOUNT - MAXTIME, "about 2x");
    }

    function test_createLock_revertsWhenAmountIsZero() public {
        vm.prank(ALICE);
        vm.expectRevert(IVotingEscrow.VotingEscrowZeroAmount.selector);
        ve.createLock(0, START + WEEK);
    }

    function test_createLock_revertsWhenRoundedUnlockIsNotInFuture() public {
        vm.warp(START + 1 days);
        vm.prank(ALICE);
        // START + 6 days rounds down to START, which is in the past.
        vm.expectRevert(
            abi.encodeWithSelector(IVotingEscrow.VotingEscrowUnlockTimeNotInFuture.selector, START, START + 1 days)
        );
        ve.createLock(AMOUNT, START + 6 days);
    }

    function test_createLock_revertsWhenUnlockIsBeyondMaxtime() public {
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVotingEscrow.VotingEscrowUnlockTimeTooLate.selector,
                START + MAXTIME + WEEK,
                START + MAXTIME
            )
        );
        ve.createLock(AMOUNT, START + MAXTIME + WEEK);
    }

    function test_createLock_revertsWhenLockExists() public {
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExists.selector, ALICE, AMOUNT, START + WEEK)
        );
        ve.createLock(AMOUNT, START + 2 * WEEK);
    }

    function test_createLock_revertsWhenExpiredLockNotWithdrawn() public {
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.warp(START + 2 * WEEK);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExists.selector, ALICE, AMOUNT, START + WEEK)
        );
        ve.createLock(AMOUNT, START + 4 * WEEK);
    }

    function test_createLock_revertsWhenAmountExceeds128Bits() public {
        uint256 huge = uint256(type(uint128).max) + 1;
        tmai.mint(ALICE, huge);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, huge));
        ve.createLock(huge, START + WEEK);
    }

    function test_createLock_revertsOnFeeOnTransferToken() public {
        FeeOnTransferToken feeToken = new FeeOnTransferToken();
        VotingEscrow feeEscrow = new VotingEscrow(IERC20(address(feeToken)));
        feeToken.mint(ALICE, AMOUNT);
        vm.startPrank(ALICE);
        feeToken.approve(address(feeEscrow), AMOUNT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVotingEscrow.VotingEscrowTransferAmountMismatch.selector,
                AMOUNT,
                AMOUNT - AMOUNT / 100
            )
        );
        feeEscrow.createLock(AMOUNT, START + WEEK);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ createLockWithPermit

    function test_createLockWithPermit_locksInOneCall() public {
        uint256 key = 0xA11CE5;
        address signer = vm.addr(key);
        tmai.mint(signer, AMOUNT);
        (uint8 v, bytes32 r, bytes32 s) = signPermit(key, signer, AMOUNT, START + 1 hours);

        vm.prank(signer);
        ve.createLockWithPermit(AMOUNT, START + 4 * WEEK, START + 1 hours, v, r, s);

        (uint256 amount, uint256 end, ) = ve.locked(signer);
        vm.assertEq(amount, AMOUNT);
        vm.assertEq(end, START + 4 * WEEK);
        vm.assertEq(tmai.allowance(signer, address(ve)), 0);
    }

    function test_createLockWithPermit_succeedsWhenPermitWasFrontRun() public {
        uint256 key = 0xB0B5;
        address signer = vm.addr(key);
        tmai.mint(signer, AMOUNT);
        (uint8 v, bytes32 r, bytes32 s) = signPermit(key, signer, AMOUNT, START + 1 hours);
        // Someone submits the permit first: the nonce is used, the allowance is set.
        tmai.permit(signer, address(ve), AMOUNT, START + 1 hours, v, r, s);

        vm.prank(signer);
        ve.createLockWithPermit(AMOUNT, START + 4 * WEEK, START + 1 hours, v, r, s);
        (uint256 amount, , ) = ve.locked(signer);
        vm.assertEq(amount, AMOUNT);
    }

    function test_createLockWithPermit_revertsWithoutPermitOrAllowance() public {
        uint256 key = 0xCA5;
        address signer = vm.addr(key);
        tmai.mint(signer, AMOUNT);
        vm.prank(signer);
        vm.expectRevert(); // the token's ERC20InsufficientAllowance
        ve.createLockWithPermit(AMOUNT, START + 4 * WEEK, START + 1 hours, 27, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------------ increaseAmount and depositFor

    function test_increaseAmount_addsToLiveLock() public {
        lockAs(ALICE, AMOUNT, START + 10 * WEEK);
        vm.warp(START + 3 days);
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, 3 * AMOUNT, START + 10 * WEEK, false);
        vm.prank(ALICE);
        ve.increaseAmount(2 * AMOUNT);

        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(3 * AMOUNT, START + 10 * WEEK, false, START + 3 days));
        vm.assertEq(ve.totalSupply(), ve.balanceOf(ALICE));
        vm.assertEq(ve.totalLocked(), 3 * AMOUNT);
    }

    function test_increaseAmount_addsToPermanentLock() public {
        lockAs(ALICE, AMOUNT, START + 10 * WEEK);
        vm.startPrank(ALICE);
        ve.lockPermanent();
        ve.increaseAmount(AMOUNT);
        vm.stopPrank();
        vm.assertEq(ve.balanceOf(ALICE), 4 * AMOUNT);
        vm.assertEq(ve.totalSupply(), 4 * AMOUNT);
    }

    function test_increaseAmount_revertsWhenAmountIsZero() public {
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.prank(ALICE);
        vm.expectRevert(IVotingEscrow.VotingEscrowZeroAmount.selector);
        ve.increaseAmount(0);
    }

    function test_increaseAmount_revertsWithoutLock() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.increaseAmount(AMOUNT);
    }

    function test_increaseAmount_revertsWhenLockExpired() public {
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.warp(START + WEEK);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExpired.selector, ALICE, START + WEEK));
        ve.increaseAmount(AMOUNT);
    }

    function test_depositFor_thirdPartyPaysIntoLock() public {
        lockAs(ALICE, AMOUNT, START + 10 * WEEK);
        uint256 bobBefore = tmai.balanceOf(BOB);
        vm.prank(BOB);
        ve.depositFor(ALICE, AMOUNT);

        (uint256 amount, uint256 end, ) = ve.locked(ALICE);
        vm.assertEq(amount, 2 * AMOUNT);
        vm.assertEq(end, START + 10 * WEEK);
        vm.assertEq(tmai.balanceOf(BOB), bobBefore - AMOUNT);
        (uint256 bobAmount, , ) = ve.locked(BOB);
        vm.assertEq(bobAmount, 0);
    }

    function test_depositFor_revertsWithoutLiveLock() public {
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.depositFor(ALICE, AMOUNT);

        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.warp(START + 2 * WEEK);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExpired.selector, ALICE, START + WEEK));
        ve.depositFor(ALICE, AMOUNT);
    }

    function test_depositFor_revertsWhenAmountIsZero() public {
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.prank(BOB);
        vm.expectRevert(IVotingEscrow.VotingEscrowZeroAmount.selector);
        ve.depositFor(ALICE, 0);
    }

    // ------------------------------------------------------------------ increaseUnlockTime

    function test_increaseUnlockTime_extendsAndMovesExpiry() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.warp(START + 1 days);
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, AMOUNT, START + 30 * WEEK, false);
        vm.prank(ALICE);
        ve.increaseUnlockTime(START + 30 * WEEK + 5 days);

        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(AMOUNT, START + 30 * WEEK, false, START + 1 days));
        vm.assertEq(ve.slopeChanges(START + 4 * WEEK).amount, 0);
        vm.assertEq(ve.slopeChanges(START + 30 * WEEK).amount, AMOUNT);
        vm.assertEq(ve.slopeChanges(START + 30 * WEEK).slope, AMOUNT / MAXTIME);
        vm.assertEq(ve.totalSupplyAt(START + 10 * WEEK), ve.balanceOfAt(ALICE, START + 10 * WEEK));
    }

    function test_increaseUnlockTime_revertsWhenNotLater() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVotingEscrow.VotingEscrowUnlockTimeNotIncreased.selector,
                START + 4 * WEEK,
                START + 4 * WEEK
            )
        );
        ve.increaseUnlockTime(START + 4 * WEEK + 6 days);
    }

    function test_increaseUnlockTime_revertsBeyondMaxtime() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVotingEscrow.VotingEscrowUnlockTimeTooLate.selector,
                START + 53 * WEEK,
                START + MAXTIME
            )
        );
        ve.increaseUnlockTime(START + 53 * WEEK);
    }

    function test_increaseUnlockTime_revertsWhenPermanent() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.startPrank(ALICE);
        ve.lockPermanent();
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockPermanent.selector, ALICE));
        ve.increaseUnlockTime(START + 8 * WEEK);
        vm.stopPrank();
    }

    function test_increaseUnlockTime_revertsWhenExpiredOrMissing() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.increaseUnlockTime(START + 8 * WEEK);

        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.warp(START + WEEK + 1);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExpired.selector, ALICE, START + WEEK));
        ve.increaseUnlockTime(START + 8 * WEEK);
    }

    // ------------------------------------------------------------------ permanent locks

    function test_lockPermanent_givesTwoXWithoutDecay() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, AMOUNT, 0, true);
        vm.prank(ALICE);
        ve.lockPermanent();

        vm.assertEq(ve.balanceOf(ALICE), 2 * AMOUNT);
        vm.assertEq(ve.slopeChanges(START + 4 * WEEK).amount, 0);
        vm.warp(START + 3 * 365 days);
        vm.assertEq(ve.balanceOf(ALICE), 2 * AMOUNT);
        vm.assertEq(ve.totalSupply(), 2 * AMOUNT);
    }

    function test_lockPermanent_revertsWhenAlreadyPermanent() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.startPrank(ALICE);
        ve.lockPermanent();
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockPermanent.selector, ALICE));
        ve.lockPermanent();
        vm.stopPrank();
    }

    function test_lockPermanent_revertsWhenExpiredOrMissing() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.lockPermanent();

        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.warp(START + WEEK);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockExpired.selector, ALICE, START + WEEK));
        ve.lockPermanent();
    }

    function test_unlockPermanent_restartsFullCountdown() public {
        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.prank(ALICE);
        ve.lockPermanent();
        uint256 later = START + 100 weeks + 2 days;
        vm.warp(later);
        uint256 end = floorWeek(later + MAXTIME);
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, AMOUNT, end, false);
        vm.prank(ALICE);
        ve.unlockPermanent();

        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(AMOUNT, end, false, later));
        vm.assertEq(ve.totalSupply(), ve.balanceOf(ALICE));
        vm.warp(end);
        vm.assertEq(ve.balanceOf(ALICE), 0);
        vm.assertEq(ve.totalSupply(), 0);
    }

    function test_unlockPermanent_revertsWhenNotPermanentOrMissing() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.unlockPermanent();

        lockAs(ALICE, AMOUNT, START + 4 * WEEK);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockNotPermanent.selector, ALICE));
        ve.unlockPermanent();
    }

    // ------------------------------------------------------------------ withdraw

    function test_withdraw_returnsTokensAfterEnd() public {
        lockAs(ALICE, AMOUNT, START + 2 * WEEK);
        uint256 before = tmai.balanceOf(ALICE);
        vm.warp(START + 2 * WEEK);
        vm.expectEmit(address(ve));
        emit LockUpdated(ALICE, 0, 0, false);
        vm.expectEmit(address(ve));
        emit Withdrawn(ALICE, AMOUNT);
        vm.prank(ALICE);
        ve.withdraw();

        vm.assertEq(tmai.balanceOf(ALICE), before + AMOUNT);
        vm.assertEq(ve.totalLocked(), 0);
        vm.assertEq(tmai.balanceOf(address(ve)), 0);
        (uint256 amount, uint256 end, bool permanent) = ve.locked(ALICE);
        vm.assertEq(amount + end, 0);
        vm.assertEq(permanent, false);
        // History before the end is kept.
        vm.assertEq(ve.balanceOfAt(ALICE, START), expectedBalance(AMOUNT, START + 2 * WEEK, false, START));

        // The account can lock again.
        lockAs(ALICE, AMOUNT, START + 6 * WEEK);
        (amount, , ) = ve.locked(ALICE);
        vm.assertEq(amount, AMOUNT);
    }

    function test_withdraw_revertsBeforeEnd() public {
        lockAs(ALICE, AMOUNT, START + 2 * WEEK);
        vm.warp(START + 2 * WEEK - 1);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockNotExpired.selector, ALICE, START + 2 * WEEK)
        );
        ve.withdraw();
    }

    function test_withdraw_revertsWhenPermanent() public {
        lockAs(ALICE, AMOUNT, START + 2 * WEEK);
        vm.prank(ALICE);
        ve.lockPermanent();
        vm.warp(START + 10 * WEEK);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowLockPermanent.selector, ALICE));
        ve.withdraw();
    }

    function test_withdraw_revertsWithoutLock() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.VotingEscrowNoLock.selector, ALICE));
        ve.withdraw();
    }

    // ------------------------------------------------------------------ history and checkpoints

    function test_balanceOfAt_answersPastAndFuture() public {
        vm.assertEq(ve.balanceOfAt(ALICE, START), 0);
        lockAs(ALICE, AMOUNT, START + 20 * WEEK);
        vm.warp(START + 5 * WEEK);
        vm.prank(ALICE);
        ve.increaseAmount(AMOUNT);
        vm.warp(START + 8 * WEEK);
        vm.prank(ALICE);
        ve.increaseUnlockTime(START + 40 * WEEK);

        // Before the first lock, after each change, and in the future.
        vm.assertEq(ve.balanceOfAt(ALICE, START - 1), 0);
        vm.assertEq(
            ve.balanceOfAt(ALICE, START + 1 * WEEK),
            expectedBalance(AMOUNT, START + 20 * WEEK, false, START + WEEK)
        );
        vm.assertEq(
            ve.balanceOfAt(ALICE, START + 6 * WEEK),
            expectedBalance(2 * AMOUNT, START + 20 * WEEK, false, START + 6 * WEEK)
        );
        vm.assertEq(
            ve.balanceOfAt(ALICE, START + 30 * WEEK),
            expectedBalance(2 * AMOUNT, START + 40 * WEEK, false, START + 30 * WEEK)
        );
        vm.assertEq(ve.balanceOfAt(ALICE, START + 40 * WEEK), 0);
    }

    function test_checkpoints_areExposedForIntegrators() public {
        lockAs(ALICE, AMOUNT, START + 20 * WEEK);
        vm.warp(START + 1 days);
        lockAs(BOB, 2 * AMOUNT, START + 20 * WEEK);

        vm.assertEq(ve.userPointEpoch(ALICE), 1);
        vm.assertEq(ve.userPointEpoch(CAROL), 0);
        IVotingEscrow.UserPoint memory p = ve.userPointHistory(ALICE, 1);
        vm.assertEq(uint256(p.amount), AMOUNT);
        vm.assertEq(uint256(p.end), START + 20 * WEEK);
        vm.assertEq(uint256(p.ts), START);
        vm.assertEq(p.permanent, false);

        vm.assertEq(ve.epoch(), 2);
        IVotingEscrow.GlobalPoint memory g = ve.pointHistory(2);
        vm.assertEq(uint256(g.ts), START + 1 days);
        vm.assertEq(uint256(g.bias), ve.totalSupply());
        vm.assertEq(uint256(g.slope), AMOUNT / MAXTIME + (2 * AMOUNT) / MAXTIME);
        IVotingEscrow.Expiry memory x = ve.slopeChanges(START + 20 * WEEK);
        vm.assertEq(uint256(x.amount), 3 * AMOUNT);
    }

    function test_checkpoints_sameTimestampAreMerged() public {
        vm.startPrank(ALICE);
        ve.createLock(AMOUNT, START + 4 * WEEK);
        ve.increaseAmount(AMOUNT);
        ve.increaseUnlockTime(START + 8 * WEEK);
        vm.stopPrank();
        vm.assertEq(ve.userPointEpoch(ALICE), 1);
        vm.assertEq(ve.epoch(), 1);
        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(2 * AMOUNT, START + 8 * WEEK, false, START));
        vm.assertEq(ve.totalSupply(), ve.balanceOf(ALICE));
    }

    function test_totalSupplyAt_walksExpiriesAcrossIdleWeeks() public {
        lockAs(ALICE, AMOUNT, START + 3 * WEEK);
        lockAs(BOB, 2 * AMOUNT, START + 10 * WEEK);
        vm.prank(CAROL);
        ve.createLock(AMOUNT, START + 5 * WEEK);
        vm.prank(CAROL);
        ve.lockPermanent();

        // No checkpoint after START: every value below comes from walking the weeks.
        for (uint256 w = 0; w <= 12; ++w) {
            uint256 t = START + w * WEEK + 1 hours;
            uint256 sum = ve.balanceOfAt(ALICE, t) + ve.balanceOfAt(BOB, t) + ve.balanceOfAt(CAROL, t);
            vm.assertEq(ve.totalSupplyAt(t), sum, "total equals sum of balances");
        }
        vm.assertEq(ve.totalSupplyAt(START + 3 * 365 days), 2 * AMOUNT);

        // A checkpoint after a long idle gap folds all the expiries in.
        vm.warp(START + 2 * 365 days);
        address dave = address(0xD0D);
        fund(dave, 1);
        lockAs(dave, 1, START + 2 * 365 days + 2 * WEEK);
        vm.assertEq(ve.totalSupply(), 2 * AMOUNT + 1);
    }

    function test_totalSupplyAt_isZeroBeforeFirstLock() public {
        vm.assertEq(ve.totalSupplyAt(START), 0);
        vm.assertEq(ve.totalSupply(), 0);
        lockAs(ALICE, AMOUNT, START + WEEK);
        vm.assertEq(ve.totalSupplyAt(START - 1), 0);
    }

    // ------------------------------------------------------------------ IERC5805

    function test_getPastVotes_matchesBalanceOfAt() public {
        lockAs(ALICE, AMOUNT, START + 20 * WEEK);
        vm.warp(START + 3 * WEEK);
        vm.assertEq(ve.getPastVotes(ALICE, START + WEEK), ve.balanceOfAt(ALICE, START + WEEK));
        vm.assertEq(ve.getPastTotalSupply(START + WEEK), ve.totalSupplyAt(START + WEEK));
        vm.assertEq(ve.getPastVotes(ALICE, START - 1), 0);
    }

    function test_getPastVotes_revertsForPresentOrFuture() public {
        uint48 now_ = uint48(START);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.ERC5805FutureLookup.selector, START, now_));
        ve.getPastVotes(ALICE, START);
        vm.expectRevert(abi.encodeWithSelector(IVotingEscrow.ERC5805FutureLookup.selector, START + 1, now_));
        ve.getPastTotalSupply(START + 1);
    }

    // ------------------------------------------------------------------ helpers

    function signPermit(
        uint256 key,
        address owner,
        uint256 value,
        uint256 deadline
    ) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                address(ve),
                value,
                tmai.nonces(owner),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", tmai.DOMAIN_SEPARATOR(), structHash));
        return vm.sign(key, digest);
    }
}
