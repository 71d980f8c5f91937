// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {SmartWallet} from "./SmartWallet.sol";

/// @title SmartWalletFactory — deploys SmartWallets at CREATE2 addresses known before deployment (ERC-6492 tests)
contract SmartWalletFactory {
    /// @notice Deploys the wallet of `owner` (`salt` picks one of several).
    function deploy(address owner, bytes32 salt) external returns (address) {
        return Create2.deploy(0, salt, _bytecode(owner));
    }

    /// @notice The address `deploy(owner, salt)` deploys to.
    function predict(address owner, bytes32 salt) external view returns (address) {
        return Create2.computeAddress(salt, keccak256(_bytecode(owner)));
    }

    function _bytecode(address owner) private pure returns (bytes memory) {
        return abi.encodePacked(type(SmartWallet).creationCode, abi.encode(owner));
    }
}
