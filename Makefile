# Noderr: `make demo` runs the whole stack locally, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.setup-done
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
# ape-vyper finds the compiler through vvm in a folder of `vyper-<version>` binaries.
export VVM_BINARY_PATH := $(CURDIR)/.vvm

.PHONY: setup test test-contracts test-indexer lint demo bench-gas bench-feed-gas bench-indexer bench-api bench-vault bench-ml bench-ml-validation bench-ml-device bench-bus bench-oracle bench-guardian bench-risk bench-halt bench-network bench-network-sweep bench-consensus bench-node db-upgrade clean

setup: $(STAMP)
	tools/install_promtool.sh

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json client/volatility.proto
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. \
	  client/volatility.proto
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p .vvm && ln -sf $(BIN)/vyper .vvm/vyper-0.4.3
	test -x /usr/bin/chromium || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	touch $(STAMP)

test: setup
	$(BIN)/ape test tests -q --durations=25

test-contracts: setup
	$(BIN)/ape test tests/contracts -q

test-indexer: setup
	$(BIN)/ape test tests/indexer -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

demo: setup
	$(BIN)/noderr demo

bench-gas: setup
	$(BIN)/python benchmarks/gas.py

bench-feed-gas: setup
	$(BIN)/python benchmarks/feed_gas.py --write

bench-indexer: setup
	$(BIN)/python benchmarks/indexer.py

db-upgrade: setup
	$(BIN)/noderr db upgrade

bench-api: setup
	$(BIN)/python benchmarks/api.py --write

bench-bus: setup
	$(BIN)/python benchmarks/bus_envelopes.py

bench-oracle: setup
	$(BIN)/python benchmarks/oracle_functions.py

bench-guardian: setup
	$(BIN)/python benchmarks/guardian_functions.py

bench-vault: setup
	$(BIN)/python benchmarks/vault.py --write

bench-risk: setup
	$(BIN)/python benchmarks/risk.py

bench-halt: setup
	$(BIN)/python benchmarks/halt_propagation.py --write

bench-network: setup
	$(BIN)/python benchmarks/network_load.py --write

bench-network-sweep: setup
	$(BIN)/python benchmarks/network_load.py --sweep --write

bench-consensus: setup
	$(BIN)/python benchmarks/consensus.py --write
	$(BIN)/python benchmarks/consensus_failover.py --write
	$(BIN)/python benchmarks/consensus_failover.py --validators 7 --kills 10 --write
	$(BIN)/python benchmarks/consensus_chaos.py --write
	$(BIN)/python benchmarks/consensus_chaos.py --validators 7 --write

bench-node: setup
	$(BIN)/python benchmarks/node_lifecycle.py --write

clean:
	rm -rf $(VENV) node_modules .vvm .build .noderr .tools

bench-ml: setup
	$(BIN)/python benchmarks/ml.py --write

# Hyperparameters are chosen here, on 2011-2014, never on the test years.
bench-ml-validation: setup
	$(BIN)/python benchmarks/ml.py --validation

# On a machine with CUDA (the CPU columns alone elsewhere).
bench-ml-device: setup
	$(BIN)/python benchmarks/ml_device.py --write
