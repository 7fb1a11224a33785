# wasmtask: `make serve` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: serve test test-all runtime venv bench clean lint services

$(STAMP): pyproject.toml
	@echo "==> .venv: installing wasmtask and its dependencies (once, ~1 min; again when pyproject.toml changes)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[build,dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

# The JavaScript runtime (QuickJS-NG + shim + prelude -> jsrt.wasm), cached by input hash.
runtime: $(STAMP)
	@echo "==> build/jsrt.wasm: the JavaScript runtime (built once, ~30 s; cached by its inputs)"
	@$(PY) -m toolchains.jsrt

serve: runtime console
	@echo "==> starting the gateway on http://$(HOST):$(PORT) (Ctrl-C stops it; \`. .venv/bin/activate\` puts wasmtask on PATH)"
	$(VENV)/bin/wasmtask serve --host $(HOST) --port $(PORT)

# Guest toolchains (Rust from Debian, AssemblyScript from npm, componentize-py): `make toolchains`.
include toolchains/toolchains.mk

test: runtime toolchains services lint console
	$(PY) -m pytest

# The servers the coordination and registry tests start themselves (Debian's redis-server, PostgreSQL 15).
services:
	@command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends redis-server >/dev/null)
	@test -x /usr/lib/postgresql/15/bin/initdb || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null)

# ruff (pyproject.toml [tool.ruff]) on everything, mypy --strict on the packages
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: runtime
	$(PY) -m benches

clean:
	rm -rf build .pytest_cache

# --- deploy: the host layer (deploy/, tests/deploy; see deploy/README.md) ---
.PHONY: test-deploy test-docker docker-image

# Egress ruleset in network namespaces, cgroup limits through deploy/launch.py,
# config checks. Needs root (skips otherwise); installs nftables if missing. Seconds.
test-deploy: runtime
	$(PY) -m pytest tests/deploy

# The real image in a private dockerd: installs docker.io and debootstrap if
# missing, builds deploy/Dockerfile, checks /healthz, limits and egress. Minutes.
test-docker: $(STAMP)
	WASMTASK_DOCKER_TESTS=1 $(PY) -m pytest tests/deploy -m docker --durations=5

# The image with this machine's Docker: a local base image, then a clean build.
docker-image:
	deploy/make-base-image.sh wasmtask-base:bookworm
	deploy/build-image.sh wasmtask:latest

# --- the web console (gateway/console; its npm inputs pinned by gateway/console/web/package-lock.json) ---
.PHONY: console test-browser browser-deps screenshots

# CodeMirror & co. from npm (`npm ci` into build/console-npm), bundled by esbuild into build/console/
# with content-hashed names; cached by a hash of the inputs (~3 s the first time, then ~0.1 s).
console: $(STAMP)
	@$(PY) -m gateway.console.assets

# Debian's chromium (apt) and Playwright from PyPI to drive it (it downloads no browser).
browser-deps: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null)
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet -e '.[browser]'

# The console in a real browser: sign in, deploy from the editor, run, live logs, XSS as text, embed.
test-browser: runtime console browser-deps
	WASMTASK_BROWSER_TESTS=1 $(PY) -m pytest tests/browser --durations=3

# The README's screenshots (docs/console/*.png), made by the browser tests (each well under 200 KB).
screenshots: test-browser
	mkdir -p docs/console && cp build/screenshots/*.png docs/console/
