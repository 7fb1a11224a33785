# Guest toolchains (C, Zig, Rust, AssemblyScript, Python). Included by the Makefile:
#   include guest_sdk/toolchains.mk
# `make toolchains` installs what is missing and builds each example once (fails loudly).
.PHONY: toolchains

toolchains: $(STAMP)
	guest_sdk/install_toolchains.sh $(PY)
