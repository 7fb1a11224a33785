# Guest toolchains (C, Zig, Rust, AssemblyScript, Python). Included by the Makefile:
#   include toolchains/toolchains.mk
# `make toolchains` installs what is missing and builds each example once (fails loudly).
.PHONY: toolchains

toolchains: $(STAMP)
	toolchains/install.sh $(PY)
