// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestTMAI} from "../contracts/dev/TestTMAI.sol";
import {VotingEscrow} from "../contracts/VotingEscrow.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Drives VotingEscrow with bounded random actions of five accounts and time jumps of up to two years
/// (idle gaps longer than MAXTIME included), keeping a reference model of every lock.
/// @dev Actions the model says are valid are called directly, so an unexpected revert fails the run
/// (`failOnRevert`); `withdraw` is attempted at any time to catch an early withdrawal.
contract EscrowHandler {
    uint256 internal constant WEEK = 7 days;
    uint256 internal constant MAXTIME = 52 weeks;
    uint256 internal constant MAX_AMOUNT = 10_000_000e18;
    uint256 internal constant MAX_PROBES = 48;

    struct Lock {
        uint256 amount;
        uint256 end;
        bool permanent;
    }

    VotingEscrow public immutable ve;
    TestTMAI public immutable tmai;
    uint256 public immutable startTime;
    address[] internal _actors;
    mapping(address account => Lock) public model;

    /// @notice Timestamps at which something happened, for the history invariants.
    uint256[] public probes;
    /// @notice Withdrawals that succeeded while the lock was live or permanent.
    uint256 public prematureWithdrawals;
    /// @notice Sum of the amounts locked in the model.
    uint256 public modelLocked;

    constructor(VotingEscrow ve_, TestTMAI tmai_, address[] memory actors_) {
        ve = ve_;
        tmai = tmai_;
        _actors = actors_;
        startTime = block.timestamp;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function probeCount() external view returns (uint256) {
        return probes.length;
    }

    // ------------------------------------------------------------------ actions

    function createLock(uint256 actorSeed, uint256 amount, uint256 duration) external {
        address actor = _actor(actorSeed);
        if (model[actor].amount != 0) return;
        amount = _bound(amount, 1, MAX_AMOUNT);
        uint256 unlockTime = block.timestamp + _bound(duration, WEEK, MAXTIME);
        vm.prank(actor);
        ve.createLock(amount, unlockTime);
        model[actor] = Lock(amount, (unlockTime / WEEK) * WEEK, false);
        modelLocked += amount;
        _record();
    }

    function increaseAmount(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        if (!_live(actor)) return;
        amount = _bound(amount, 1, MAX_AMOUNT);
        vm.prank(actor);
        ve.increaseAmount(amount);
        model[actor].amount += amount;
        modelLocked += amount;
        _record();
    }

    function depositFor(uint256 payerSeed, uint256 actorSeed, uint256 amount) external {
        address payer = _actor(payerSeed);
        address actor = _actor(actorSeed);
        if (!_live(actor)) return;
        amount = _bound(amount, 1, MAX_AMOUNT);
        vm.prank(payer);
        ve.depositFor(actor, amount);
        model[actor].amount += amount;
        modelLocked += amount;
        _record();
    }

    function increaseUnlockTime(uint256 actorSeed, uint256 duration) external {
        address actor = _actor(actorSeed);
        Lock storage lock = model[actor];
        if (!_live(actor) || lock.permanent) return;
        uint256 end = ((block.timestamp + _bound(duration, WEEK, MAXTIME)) / WEEK) * WEEK;
        if (end <= lock.end) return;
        vm.prank(actor);
        ve.increaseUnlockTime(end);
        lock.end = end;
        _record();
    }

    function lockPermanent(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        Lock storage lock = model[actor];
        if (!_live(actor) || lock.permanent) return;
        vm.prank(actor);
        ve.lockPermanent();
        lock.permanent = true;
        lock.end = 0;
        _record();
    }

    function unlockPermanent(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        Lock storage lock = model[actor];
        if (!lock.permanent) return;
        vm.prank(actor);
        ve.unlockPermanent();
        lock.permanent = false;
        lock.end = ((block.timestamp + MAXTIME) / WEEK) * WEEK;
        _record();
    }

    function withdraw(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        Lock memory lock = model[actor];
        vm.prank(actor);
        try ve.withdraw() {
            if (lock.amount == 0 || lock.permanent || block.timestamp < lock.end) ++prematureWithdrawals;
            modelLocked -= lock.amount;
            delete model[actor];
            _record();
        } catch {}
    }

    /// @notice Jumps ahead: usually up to 8 weeks, one time in eight up to 60 weeks; at most two years in all.
    function warp(uint256 seed) external {
        uint256 limit = seed % 8 == 0 ? 60 weeks : 8 weeks;
        uint256 next = block.timestamp + _bound(seed >> 8, 1, limit);
        if (next > startTime + 2 * 365 days) return;
        vm.warp(next);
        _record();
    }

    // ------------------------------------------------------------------ helpers

    function _live(address actor) internal view returns (bool) {
        Lock memory lock = model[actor];
        return lock.amount != 0 && (lock.permanent || block.timestamp < lock.end);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _record() internal {
        if (probes.length < MAX_PROBES) probes.push(block.timestamp);
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}

contract VotingEscrowInvariantTest is EscrowFixture {
    EscrowHandler internal handler;
    address[] internal accounts;

    function setUp() public override {
        super.setUp();
        accounts = [ALICE, BOB, CAROL, address(0xD0D), address(0xE7E)];
        fund(address(0xD0D), 100_000_000 * E18);
        fund(address(0xE7E), 100_000_000 * E18);
        handler = new EscrowHandler(ve, tmai, accounts);
    }

    /// @dev Read by the invariant runner: only the handler's actions are fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_tokenBalanceEqualsSumOfLockedAmounts() public view {
        uint256 sum = 0;
        for (uint256 i = 0; i < accounts.length; ++i) {
            (uint256 amount, , ) = ve.locked(accounts[i]);
            sum += amount;
        }
        vm.assertEq(tmai.balanceOf(address(ve)), sum, "escrow balance == sum of locks");
        vm.assertEq(ve.totalLocked(), sum, "totalLocked == sum of locks");
        vm.assertEq(handler.modelLocked(), sum, "model == sum of locks");
    }

    function invariant_locksMatchReferenceModel() public view {
        for (uint256 i = 0; i < accounts.length; ++i) {
            (uint256 amount, uint256 end, bool permanent) = ve.locked(accounts[i]);
            (uint256 mAmount, uint256 mEnd, bool mPermanent) = handler.model(accounts[i]);
            vm.assertEq(amount, mAmount, "amount");
            vm.assertEq(end, mEnd, "end");
            vm.assertEq(permanent, mPermanent);
            vm.assertEq(ve.balanceOf(accounts[i]), expectedBalance(mAmount, mEnd, mPermanent, block.timestamp));
        }
    }

    function invariant_totalSupplyAtEqualsSumOfBalances() public view {
        uint256 n = handler.probeCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 t = handler.probes(i);
            checkSum(t);
            checkSum(t + 3 days);
        }
        // Future projections, up to past the last possible expiry.
        for (uint256 w = 0; w <= 56; w += 4) checkSum(block.timestamp + w * WEEK + 1);
    }

    function invariant_getPastVotesEqualsBalanceOfAt() public view {
        uint256 n = handler.probeCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 t = handler.probes(i);
            if (t >= block.timestamp) continue;
            for (uint256 j = 0; j < accounts.length; ++j) {
                vm.assertEq(ve.getPastVotes(accounts[j], t), ve.balanceOfAt(accounts[j], t), "getPastVotes");
            }
            vm.assertEq(ve.getPastTotalSupply(t), ve.totalSupplyAt(t), "getPastTotalSupply");
        }
    }

    function invariant_nobodyWithdrawsBeforeEnd() public view {
        vm.assertEq(handler.prematureWithdrawals(), 0, "premature withdrawals");
    }

    function checkSum(uint256 t) internal view {
        uint256 sum = 0;
        for (uint256 j = 0; j < accounts.length; ++j) sum += ve.balanceOfAt(accounts[j], t);
        vm.assertEq(ve.totalSupplyAt(t), sum, "totalSupplyAt == sum of balanceOfAt");
    }
}
