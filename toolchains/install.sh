#!/usr/bin/env bash
# Install the guest toolchains and check them: C and Zig (the ziglang wheel), Python
# (componentize-py), Rust (Debian's rustc + wasm32 std + lld), AssemblyScript (npm, on Node 20+),
# and for JavaScript imports esbuild and the platform's npm set (toolchains/bundler.py).
#
#   toolchains/install.sh [PYTHON]     PYTHON: the project's interpreter (default .venv/bin/python)
#
# Idempotent: what is already there is left alone. Rust and Node come from apt (root, or sudo).
# Ends with `python -m toolchains`, which builds every example once and fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${1:-.venv/bin/python}
TOOLCHAINS_DIR=${WASMTASK_TOOLCHAINS_DIR:-build/toolchains}
ASSEMBLYSCRIPT_VERSION="~0.28.0"   # keep in step with toolchains/assemblyscript.py
ESBUILD_VERSION="0.28.2"
NPM_PACKAGES=${WASMTASK_NPM_PACKAGES:-toolchains/npm-packages.txt}  # a file, or name@version entries
RUSTC=${WASMTASK_RUSTC:-/usr/bin/rustc}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "toolchains/install.sh: need root for: $*" >&2; return 1; fi
}

apt_install() {
    echo "toolchains/install.sh: apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
        as_root apt-get update -qq >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    }
}

# C, Zig, Python: the `build` extra of pyproject.toml (ziglang, componentize-py)
if ! "$PY" -c "import ziglang, componentize_py" 2>/dev/null; then
    "$PY" -m pip install --quiet -e '.[build]'
fi

# Rust: called by full path; rustup's toolchain (if any) lacks the wasm target
if [ ! -x "$RUSTC" ] || [ ! -d "$("$RUSTC" --print sysroot 2>/dev/null)/lib/rustlib/wasm32-unknown-unknown" ]; then
    apt_install rustc libstd-rust-dev-wasm32 lld
fi

# AssemblyScript: the npm package in $TOOLCHAINS_DIR/assemblyscript, run offline by node (20+) at deploy time
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "toolchains/install.sh: node $(node --version) is too old for assemblyscript 0.28 (needs 20+, e.g. from NodeSource)" >&2
    exit 1
fi
if [ ! -f "$TOOLCHAINS_DIR/assemblyscript/node_modules/assemblyscript/bin/asc.js" ]; then
    mkdir -p "$TOOLCHAINS_DIR/assemblyscript"
    npm install --prefix "$TOOLCHAINS_DIR/assemblyscript" --no-audit --no-fund --loglevel=error \
        "assemblyscript@$ASSEMBLYSCRIPT_VERSION"
fi

# JavaScript imports: esbuild in $TOOLCHAINS_DIR/esbuild; the npm set functions may import in
# $TOOLCHAINS_DIR/npm, pinned by the package-lock.json npm writes, reinstalled only when the list changes.
# Deploys bundle from these offline (toolchains/bundler.py); nothing is fetched then.
npm_version() { node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).version' "$1" 2>/dev/null || true; }
if [ "$(npm_version "$TOOLCHAINS_DIR/esbuild/node_modules/esbuild/package.json")" != "$ESBUILD_VERSION" ]; then
    echo "toolchains/install.sh: npm install esbuild@$ESBUILD_VERSION"
    mkdir -p "$TOOLCHAINS_DIR/esbuild"
    npm install --prefix "$TOOLCHAINS_DIR/esbuild" --save-exact --no-audit --no-fund --loglevel=error \
        "esbuild@$ESBUILD_VERSION"
fi
npm_specs() {  # the operator's list, then what the Node built-ins are made of; comments dropped, sorted
    { if [ -f "$NPM_PACKAGES" ]; then cat "$NPM_PACKAGES"; else echo "$NPM_PACKAGES"; fi
      cat toolchains/npm-node-compat.txt; } | sed -e 's/#.*//' | tr ', \t' '\n\n\n' | sed '/^$/d' | sort -u
}
NPM_DIR="$TOOLCHAINS_DIR/npm"
SPECS="$(npm_specs)"
if [ ! -f "$NPM_DIR/package-lock.json" ] || [ "$(cat "$NPM_DIR/.wasmtask-specs" 2>/dev/null)" != "$SPECS" ]; then
    echo "toolchains/install.sh: npm install into $NPM_DIR:" $SPECS
    rm -rf "$NPM_DIR.new"
    mkdir -p "$NPM_DIR.new"
    echo '{"name": "wasmtask-npm-set", "private": true}' > "$NPM_DIR.new/package.json"
    # --ignore-scripts: the set is bundled as source, nothing of it runs at install
    # shellcheck disable=SC2086  # one argument per package
    npm install --prefix "$NPM_DIR.new" --save-exact --ignore-scripts --no-audit --no-fund --loglevel=error $SPECS
    printf '%s' "$SPECS" > "$NPM_DIR.new/.wasmtask-specs"
    rm -rf "$NPM_DIR"
    mv "$NPM_DIR.new" "$NPM_DIR"
fi
"$PY" -m toolchains.bundler

"$PY" -m toolchains
