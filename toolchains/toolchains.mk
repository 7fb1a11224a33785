# Guest toolchains (C, Zig, Rust, AssemblyScript, Python) and JavaScript bundling (esbuild and the
# npm set functions may import, toolchains/npm-packages.txt or $WASMTASK_NPM_PACKAGES). Included by
# the Makefile:
#   include toolchains/toolchains.mk
# `make toolchains` installs what is missing and builds each example once (fails loudly).
.PHONY: toolchains

toolchains: $(STAMP)
	toolchains/install.sh $(PY)
