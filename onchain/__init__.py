"""The Python side of the contracts: compiling them, deploying and wiring them (the one
deploy path), starting a local chain, and the EIP-712 ballot NodeGovernor verifies."""
