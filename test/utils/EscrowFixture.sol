// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestTMAI} from "../../contracts/dev/TestTMAI.sol";
import {StakingScore} from "../../contracts/StakingScore.sol";
import {VotingEscrow} from "../../contracts/VotingEscrow.sol";
import {vm} from "./Vm.sol";

/// @notice The shared fixture of the Solidity tests: TMAI, veTMAI and StakingScore with the default
/// thresholds, funded accounts, and a clock at a realistic time.
abstract contract EscrowFixture {
    uint256 internal constant WEEK = 7 days;
    uint256 internal constant MAXTIME = 52 weeks;
    /// @dev Thursday 2027-01-14 00:00 UTC, a week boundary.
    uint256 internal constant START = 1_799_884_800;
    uint256 internal constant E18 = 1e18;

    TestTMAI internal tmai;
    VotingEscrow internal ve;
    StakingScore internal score;

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);
    address internal constant DAO = address(0xDA0);

    function setUp() public virtual {
        vm.warp(START);
        tmai = new TestTMAI(address(this));
        ve = new VotingEscrow(tmai);
        score = new StakingScore(ve, defaultThresholds(), DAO);
        fund(ALICE, 100_000_000 * E18);
        fund(BOB, 100_000_000 * E18);
        fund(CAROL, 100_000_000 * E18);
    }

    function defaultThresholds() internal pure returns (uint256[10] memory t) {
        t = [
            uint256(22_000),
            111_000,
            222_000,
            444_000,
            888_000,
            1_333_000,
            3_333_000,
            4_444_000,
            5_555_000,
            7_777_000
        ];
        for (uint256 i = 0; i < 10; ++i) t[i] *= E18;
    }

    /// @dev Mints to `account` and approves the escrow for everything.
    function fund(address account, uint256 amount) internal {
        tmai.mint(account, amount);
        vm.prank(account);
        tmai.approve(address(ve), type(uint256).max);
    }

    function lockAs(address account, uint256 amount, uint256 unlockTime) internal {
        vm.prank(account);
        ve.createLock(amount, unlockTime);
    }

    /// @dev Independent reference model of the balance of one lock (see IVotingEscrow).
    function expectedBalance(uint256 amount, uint256 end, bool permanent, uint256 t) internal pure returns (uint256) {
        if (permanent) return amount * 2;
        if (t >= end) return 0;
        uint256 perSecond = amount / MAXTIME;
        return amount + perSecond * (end - t);
    }

    function floorWeek(uint256 t) internal pure returns (uint256) {
        return t - (t % WEEK);
    }

    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}
