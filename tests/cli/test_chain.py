"""`noderr chain` starts anvil with the port and chain id it is given; an anvil we start is
never mistaken for another one that holds its port."""

import subprocess
import sys

import pytest

from noderr.ports import PortTaken, free_port
from onchain.anvil import start_anvil, wait_for_rpc


def test_chain__port_and_chain_id_options__anvil_answers_with_them():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "noderr_cli", "chain", "--port", str(port), "--chain-id", "4242"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for_rpc(f"http://127.0.0.1:{port}") == 4242
    finally:
        process.kill()
        process.wait()


def test_start_anvil__port_held_by_another_anvil__refused_and_the_other_unharmed():
    port = free_port()
    first = start_anvil(port, chain_id=4242)
    try:
        with pytest.raises(PortTaken, match=f"anvil exited at start-up .*port {port} in use"):
            start_anvil(port, chain_id=31337)
        assert wait_for_rpc(f"http://127.0.0.1:{port}", process=first) == 4242
    finally:
        first.kill()
        first.wait()
