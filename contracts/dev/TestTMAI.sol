// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestTMAI — a stand-in for TMAI on local chains and testnets only
/// @notice ERC-20 with EIP-2612 permit and 18 decimals, like TMAI; the owner mints freely. Never deploy it on a
/// network where TMAI exists.
contract TestTMAI is ERC20, ERC20Permit, Ownable {
    constructor(address initialOwner) ERC20("Test TMAI", "TMAI") ERC20Permit("Test TMAI") Ownable(initialOwner) {}

    /// @notice Creates `amount` tokens for `to`. Owner only.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
