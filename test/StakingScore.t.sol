// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakingScore} from "../contracts/interfaces/IStakingScore.sol";
import {StakingScore} from "../contracts/StakingScore.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Unit and fuzz tests of StakingScore.
contract StakingScoreTest is EscrowFixture {
    event ThresholdsUpdated(uint256[10] thresholds);

    function test_constructor_setsDefaultsAndOwner() public view {
        uint256[10] memory t = score.thresholds();
        uint256[10] memory d = defaultThresholds();
        for (uint256 i = 0; i < 10; ++i) vm.assertEq(t[i], d[i]);
        vm.assertEq(t[0], 22_000 * E18);
        vm.assertEq(t[9], 7_777_000 * E18);
        vm.assertEq(score.owner(), DAO);
        vm.assertEq(address(score.ve()), address(ve));
        vm.assertEq(uint256(score.MAX_LEVEL()), 10);
    }

    function test_constructor_revertsOnZeroFirstThreshold() public {
        uint256[10] memory t = defaultThresholds();
        t[0] = 0;
        vm.expectRevert(IStakingScore.StakingScoreZeroThreshold.selector);
        new StakingScore(ve, t, DAO);
    }

    function test_constructor_revertsWhenNotStrictlyAscending() public {
        uint256[10] memory t = defaultThresholds();
        t[5] = t[4];
        vm.expectRevert(
            abi.encodeWithSelector(IStakingScore.StakingScoreThresholdsNotAscending.selector, 5, t[4], t[4])
        );
        new StakingScore(ve, t, DAO);
    }

    function test_constructor_revertsWhenThresholdExceeds128Bits() public {
        uint256[10] memory t = defaultThresholds();
        t[9] = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, t[9]));
        new StakingScore(ve, t, DAO);
    }

    function test_levelOf_countsThresholdsReached() public {
        vm.assertEq(uint256(score.levelOf(ALICE)), 0);
        // A permanent lock of half a threshold is worth exactly the threshold.
        uint256[10] memory t = defaultThresholds();
        for (uint256 i = 0; i < 10; ++i) {
            vm.assertEq(uint256(score.levelOfBalance(t[i] - 1)), i);
            vm.assertEq(uint256(score.levelOfBalance(t[i])), i + 1);
        }
        lockAs(ALICE, t[2] / 2, START + WEEK);
        vm.prank(ALICE);
        ve.lockPermanent();
        vm.assertEq(ve.balanceOf(ALICE), t[2]);
        vm.assertEq(uint256(score.levelOf(ALICE)), 3);
        vm.assertEq(uint256(score.levelOfBalance(type(uint256).max)), 10);
    }

    function test_levelOf_isLostByDecayAtTheRightSecond() public {
        // 100,000 TMAI for a year: ≈200,000 veTMAI (level 2), decaying through 111,000 (level 2 → 1).
        uint256 amount = 100_000 * E18;
        uint256 end = START + MAXTIME;
        lockAs(ALICE, amount, end);
        vm.assertEq(uint256(score.levelOf(ALICE)), 2);
        uint256 slope = amount / MAXTIME;
        // Last second at level 2: amount + slope × (end − t) ≥ 111,000.
        uint256 lastLevel2 = end - ((111_000 * E18 - amount + slope - 1) / slope);
        vm.assertEq(uint256(score.levelOfAt(ALICE, lastLevel2)), 2);
        vm.assertEq(uint256(score.levelOfAt(ALICE, lastLevel2 + 1)), 1);
        vm.assertEq(uint256(score.levelOfAt(ALICE, end)), 0);
    }

    function test_setThresholds_versionsByTimestamp() public {
        lockAs(ALICE, 100_000 * E18, START + MAXTIME);
        uint256 before = START + 1;
        vm.warp(START + 10 days);
        uint256[10] memory lower = defaultThresholds();
        for (uint256 i = 0; i < 10; ++i) lower[i] /= 10;

        vm.expectEmit(address(score));
        emit ThresholdsUpdated(lower);
        vm.prank(DAO);
        score.setThresholds(lower);

        vm.assertEq(score.thresholds()[0], lower[0]);
        vm.assertEq(score.thresholdsAt(before)[0], 22_000 * E18);
        vm.assertEq(score.thresholdsAt(START + 10 days)[0], lower[0]);
        vm.assertEq(score.thresholdsAt(0)[0], 22_000 * E18);
        // The past level is judged against the past thresholds.
        vm.assertEq(uint256(score.levelOfAt(ALICE, before)), 2);
        vm.assertEq(uint256(score.levelOf(ALICE)), 6);

        vm.warp(START + 20 days);
        vm.prank(DAO);
        score.setThresholds(defaultThresholds());
        vm.assertEq(score.thresholdsAt(START + 15 days)[0], lower[0]);
        vm.assertEq(score.thresholdsAt(START + 20 days)[0], 22_000 * E18);
    }

    function test_setThresholds_sameBlockReplacesVersion() public {
        vm.warp(START + 1 days);
        uint256[10] memory a = defaultThresholds();
        a[0] = 1;
        uint256[10] memory b = defaultThresholds();
        b[0] = 2;
        vm.startPrank(DAO);
        score.setThresholds(a);
        score.setThresholds(b);
        vm.stopPrank();
        vm.assertEq(score.thresholdsAt(START + 1 days)[0], 2);
        vm.assertEq(score.thresholdsAt(START)[0], 22_000 * E18);
    }

    function test_setThresholds_revertsForNonOwner() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, ALICE));
        score.setThresholds(defaultThresholds());
    }

    function test_setThresholds_revertsOnBadValues() public {
        uint256[10] memory t = defaultThresholds();
        t[9] = t[8] - 1;
        vm.prank(DAO);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingScore.StakingScoreThresholdsNotAscending.selector, 9, t[8], t[9])
        );
        score.setThresholds(t);
        t = defaultThresholds();
        t[0] = 0;
        vm.prank(DAO);
        vm.expectRevert(IStakingScore.StakingScoreZeroThreshold.selector);
        score.setThresholds(t);
    }

    function test_ownership_transfersInTwoSteps() public {
        vm.prank(DAO);
        score.transferOwnership(BOB);
        vm.assertEq(score.owner(), DAO);
        vm.prank(BOB);
        score.acceptOwnership();
        vm.assertEq(score.owner(), BOB);
    }

    function test_tierOfLevel_mapsVendorTable() public view {
        uint8[11] memory tiers = [0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3];
        for (uint8 level = 0; level <= 10; ++level) {
            vm.assertEq(uint256(score.tierOfLevel(level)), uint256(tiers[level]));
        }
    }

    function test_tierOfLevel_revertsAboveMaxLevel() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingScore.StakingScoreInvalidLevel.selector, uint8(11)));
        score.tierOfLevel(11);
    }

    function testFuzz_levelOfBalance_matchesReferenceModel(uint256 veBalance) public view {
        uint256[10] memory t = defaultThresholds();
        uint256 expected = 0;
        for (uint256 i = 0; i < 10; ++i) if (veBalance >= t[i]) expected = i + 1;
        vm.assertEq(uint256(score.levelOfBalance(veBalance)), expected);
    }
}
