"""`noderr chain` starts anvil with the port and chain id it is given."""

import subprocess
import sys

from onchain.anvil import free_port, wait_for_rpc


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
