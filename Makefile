# wasmtask: `make serve` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: serve test test-all runtime venv bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[build,dev]'
	touch $(STAMP)

venv: $(STAMP)

# The JavaScript runtime (QuickJS-NG + shim + prelude -> jsrt.wasm), cached by input hash.
runtime: $(STAMP)
	$(PY) -m guest_sdk.js.build

serve: runtime
	$(VENV)/bin/wasmtask serve --host $(HOST) --port $(PORT)

test: runtime
	$(PY) -m pytest

bench: runtime
	$(PY) -m benches

clean:
	rm -rf build .pytest_cache
