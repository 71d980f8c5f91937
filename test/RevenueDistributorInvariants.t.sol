// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestTMAI} from "../contracts/dev/TestTMAI.sol";
import {RevenueDistributor} from "../contracts/RevenueDistributor.sol";
import {DistributorFixture} from "./RevenueDistributor.t.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Random epochs (fund, propose a cumulative root, wait, accept) and random claims by four accounts in
/// two tokens; keeps what was funded and paid.
contract DistributorHandler {
    uint256 internal constant ACCOUNTS = 4;
    RevenueDistributor public immutable distributor;
    TestTMAI[2] internal tokens;
    address internal immutable operator;

    /// @dev cumulative[account][token] of the accepted root; leaves of the accepted root, in a fixed order.
    uint256[2][ACCOUNTS] internal cumulative;
    bytes32[] internal leaves;
    uint256[2] public paid;
    uint256 public epochs;

    constructor(RevenueDistributor distributor_, TestTMAI a, TestTMAI b, address operator_) {
        distributor = distributor_;
        (tokens[0], tokens[1]) = address(a) < address(b) ? (a, b) : (b, a);
        operator = operator_;
        a.approve(address(distributor_), type(uint256).max);
        b.approve(address(distributor_), type(uint256).max);
    }

    function account(uint256 i) public pure returns (address) {
        return address(uint160(0xACC0 + i));
    }

    function token(uint256 t) external view returns (address) {
        return address(tokens[t]);
    }

    /// @notice One epoch: everyone earns a random amount of both tokens; the DAO funds it (sometimes with extra).
    function epoch(uint256 seed) external {
        address[] memory list = new address[](2);
        uint256[] memory totals = new uint256[](2);
        for (uint256 t = 0; t < 2; ++t) {
            uint256 increase = 0;
            for (uint256 i = 0; i < ACCOUNTS; ++i) {
                uint256 earned = uint256(keccak256(abi.encode(seed, t, i))) % (1_000e18);
                cumulative[i][t] += earned;
                increase += earned;
            }
            uint256 extra = seed % 3 == 0 ? 7e18 : 0;
            tokens[t].mint(address(this), increase + extra);
            distributor.fund(tokens[t], increase + extra);
            list[t] = address(tokens[t]);
            totals[t] = distributor.acceptedTotal(address(tokens[t])) + increase;
        }
        delete leaves;
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            for (uint256 t = 0; t < 2; ++t) leaves.push(MerkleHelper.leaf(account(i), list[t], cumulative[i][t]));
        }
        vm.prank(operator);
        distributor.proposeRoot(MerkleHelper.root(leaves), bytes32(seed), list, totals);
        vm.warp(block.timestamp + distributor.rootDelay());
        distributor.acceptRoot();
        ++epochs;
    }

    /// @notice Anyone claims for a random account and token; nothing new to claim is a no-op.
    function claim(uint256 accountSeed, uint256 tokenSeed) external {
        if (epochs == 0) return;
        uint256 i = accountSeed % ACCOUNTS;
        uint256 t = tokenSeed % 2;
        address who = account(i);
        uint256 owed = cumulative[i][t] - distributor.claimed(who, address(tokens[t]));
        if (owed == 0) return;
        distributor.claim(who, address(tokens[t]), cumulative[i][t], MerkleHelper.proof(leaves, i * 2 + t));
        paid[t] += owed;
    }
}

contract RevenueDistributorInvariantTest is DistributorFixture {
    DistributorHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new DistributorHandler(distributor, tmai, usdc, OPERATOR);
        tmai.transferOwnership(address(handler));
        usdc.transferOwnership(address(handler));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_paidNeverExceedsFunded() public view {
        for (uint256 t = 0; t < 2; ++t) {
            address token = handler.token(t);
            uint256 funded = distributor.funded(token);
            vm.assertLe(handler.paid(t), distributor.acceptedTotal(token), "paid <= promised");
            vm.assertLe(distributor.acceptedTotal(token), funded, "promised <= funded");
            vm.assertEq(TestTMAI(token).balanceOf(address(distributor)), funded - handler.paid(t), "balance");
        }
    }

    function invariant_claimedMatchesPaid() public view {
        for (uint256 t = 0; t < 2; ++t) {
            uint256 sum = 0;
            for (uint256 i = 0; i < 4; ++i) sum += distributor.claimed(handler.account(i), handler.token(t));
            vm.assertEq(sum, handler.paid(t), "sum of claimed == paid");
        }
    }
}
