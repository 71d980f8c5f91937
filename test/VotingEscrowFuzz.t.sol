// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Fuzz tests of the balance formula and of the history against the reference model in EscrowFixture.
contract VotingEscrowFuzzTest is EscrowFixture {
    uint256 internal constant MAX_AMOUNT = 1e9 * E18;

    function setUp() public override {
        super.setUp();
        fund(ALICE, MAX_AMOUNT * 4);
        fund(BOB, MAX_AMOUNT * 4);
        fund(CAROL, MAX_AMOUNT * 4);
    }

    function testFuzz_balanceMatchesReferenceModel(
        uint256 amount,
        uint256 unlockOffset,
        uint256 startOffset,
        uint256 dt
    ) public {
        amount = bound(amount, 1, MAX_AMOUNT);
        uint256 start = START + bound(startOffset, 0, 3 * WEEK);
        vm.warp(start);
        uint256 unlockTime = start + bound(unlockOffset, WEEK, MAXTIME);
        lockAs(ALICE, amount, unlockTime);
        uint256 end = floorWeek(unlockTime);

        uint256 t = start + bound(dt, 0, MAXTIME + 2 * WEEK);
        vm.assertEq(ve.balanceOfAt(ALICE, t), expectedBalance(amount, end, false, t), "balanceOfAt");
        vm.assertEq(ve.totalSupplyAt(t), expectedBalance(amount, end, false, t), "totalSupplyAt");
        vm.warp(t);
        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(amount, end, false, t), "balanceOf");
        if (t < end) {
            vm.assertGe(ve.balanceOf(ALICE), amount, "1x floor");
            vm.assertLe(ve.balanceOf(ALICE), 2 * amount, "2x cap");
        }
    }

    function testFuzz_balanceDecaysLinearly(uint256 amount, uint256 a, uint256 b) public {
        amount = bound(amount, MAXTIME, MAX_AMOUNT);
        uint256 end = START + MAXTIME;
        lockAs(ALICE, amount, end);
        uint256 t1 = START + bound(a, 0, MAXTIME - 1);
        uint256 t2 = START + bound(b, 0, MAXTIME - 1);
        if (t1 > t2) (t1, t2) = (t2, t1);
        uint256 slope = amount / MAXTIME;
        vm.assertEq(ve.balanceOfAt(ALICE, t1) - ve.balanceOfAt(ALICE, t2), slope * (t2 - t1), "linear decay");
    }

    /// @dev Three accounts, a random sequence of changes at random times; the total equals the sum at every
    /// time asked, past and future.
    function testFuzz_totalSupplyEqualsSumOfBalances(uint256 seed) public {
        address[3] memory accounts = [ALICE, BOB, CAROL];
        uint256 t = START;
        for (uint256 step = 0; step < 12; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            t += seed % (9 * WEEK);
            vm.warp(t);
            address account = accounts[(seed >> 8) % 3];
            tryAction(account, (seed >> 16) % 6, 1 + ((seed >> 24) % MAX_AMOUNT), t + ((seed >> 128) % (MAXTIME + 1)));
        }
        for (uint256 k = 0; k < 30; ++k) {
            uint256 probe = START + (uint256(keccak256(abi.encode(seed, "probe", k))) % (t - START + 60 * WEEK));
            uint256 sum = ve.balanceOfAt(ALICE, probe) + ve.balanceOfAt(BOB, probe) + ve.balanceOfAt(CAROL, probe);
            vm.assertEq(ve.totalSupplyAt(probe), sum, "totalSupplyAt == sum of balanceOfAt");
        }
    }

    /// @dev What the escrow answered about a past time never changes afterwards.
    function testFuzz_historyIsImmutable(uint256 amount, uint256 unlockOffset, uint256 later, uint256 extra) public {
        amount = bound(amount, 1, MAX_AMOUNT);
        lockAs(ALICE, amount, START + bound(unlockOffset, WEEK, MAXTIME));
        lockAs(BOB, amount, START + MAXTIME);
        uint256 probe = START + 3 days;
        vm.warp(START + bound(later, 3 days + 1, 20 * WEEK));
        uint256 aliceBefore = ve.balanceOfAt(ALICE, probe);
        uint256 totalBefore = ve.totalSupplyAt(probe);

        vm.prank(BOB);
        ve.increaseAmount(bound(extra, 1, MAX_AMOUNT));
        vm.prank(BOB);
        ve.lockPermanent();
        (, uint256 aliceEnd, ) = ve.locked(ALICE);
        if (aliceEnd > block.timestamp) {
            vm.prank(ALICE);
            ve.lockPermanent();
        }
        vm.assertEq(ve.balanceOfAt(ALICE, probe), aliceBefore, "account history");
        vm.assertEq(ve.totalSupplyAt(probe), totalBefore, "global history");
    }

    function testFuzz_permanentRoundTripRestartsFullLock(uint256 amount, uint256 wait) public {
        amount = bound(amount, 1, MAX_AMOUNT);
        lockAs(ALICE, amount, START + 2 * WEEK);
        vm.prank(ALICE);
        ve.lockPermanent();
        uint256 t = START + bound(wait, 0, 4 * 365 days);
        vm.warp(t);
        vm.assertEq(ve.balanceOf(ALICE), 2 * amount);
        vm.prank(ALICE);
        ve.unlockPermanent();
        uint256 end = floorWeek(t + MAXTIME);
        vm.assertEq(ve.balanceOf(ALICE), expectedBalance(amount, end, false, t));
        vm.assertEq(ve.totalSupply(), ve.balanceOf(ALICE));
    }

    /// @dev Many checkpoints at uneven times (bursts of seconds, hours, idle gaps of weeks): the interpolation
    /// search must find the right checkpoint for every probe, including around each checkpoint's own time.
    function testFuzz_historySearchFindsEveryCheckpoint(uint256 seed) public {
        uint256 end = START + MAXTIME;
        lockAs(ALICE, 1_000 * E18, end);
        uint256[] memory times = new uint256[](40);
        uint256[] memory amounts = new uint256[](40);
        times[0] = START;
        amounts[0] = 1_000 * E18;
        uint256 t = START;
        for (uint256 i = 1; i < 40; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint256 kind = seed % 4;
            // Burst (1–10 s), hours, days, or a gap of up to 3 weeks; the lock never expires within the run.
            t += kind == 0 ? 1 + (seed >> 8) % 10 : kind == 1 ? (seed >> 8) % 1 days : kind == 2
                ? (seed >> 8) % 5 days
                : (seed >> 8) % 3 weeks;
            if (t == times[i - 1]) ++t;
            vm.warp(t);
            uint256 extra = 1 + ((seed >> 128) % (1_000 * E18));
            vm.prank(ALICE);
            ve.increaseAmount(extra);
            // A second account keeps the global history interleaved with Alice's.
            if (seed % 3 == 0) {
                (uint256 bobAmount, , ) = ve.locked(BOB);
                if (bobAmount == 0) {
                    lockAs(BOB, extra, end);
                } else {
                    vm.prank(BOB);
                    ve.increaseAmount(extra);
                }
            }
            times[i] = t;
            amounts[i] = amounts[i - 1] + extra;
        }
        vm.assertEq(ve.userPointEpoch(ALICE), 40);
        vm.warp(t + 1);
        for (uint256 i = 0; i < 40; ++i) {
            vm.assertEq(ve.balanceOfAt(ALICE, times[i]), expectedBalance(amounts[i], end, false, times[i]), "at");
            if (i > 0) {
                uint256 before = times[i] - 1;
                vm.assertEq(ve.balanceOfAt(ALICE, before), expectedBalance(amounts[i - 1], end, false, before), "<");
            }
            uint256 probe = times[i] + 1;
            uint256 sum = ve.balanceOfAt(ALICE, probe) + ve.balanceOfAt(BOB, probe);
            vm.assertEq(ve.totalSupplyAt(probe), sum, "total");
        }
        vm.assertEq(ve.balanceOfAt(ALICE, START - 1), 0);
        vm.assertEq(ve.userPointHistory(ALICE, 40).amount, amounts[39]);
        vm.assertEq(ve.userPointHistory(ALICE, 1).amount, amounts[0]);
    }

    /// @dev Attempts one lock action; invalid ones revert and are skipped.
    function tryAction(address account, uint256 kind, uint256 amount, uint256 unlockTime) internal {
        vm.startPrank(account);
        if (kind == 0) {
            try ve.createLock(amount, unlockTime) {} catch {}
        } else if (kind == 1) {
            try ve.increaseAmount(amount) {} catch {}
        } else if (kind == 2) {
            try ve.increaseUnlockTime(unlockTime) {} catch {}
        } else if (kind == 3) {
            try ve.lockPermanent() {} catch {}
        } else if (kind == 4) {
            try ve.unlockPermanent() {} catch {}
        } else {
            try ve.withdraw() {} catch {}
        }
        vm.stopPrank();
    }
}
