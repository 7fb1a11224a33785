#!/bin/sh
# Build the wasmtask image from a clean staging copy of the repository.
#
#   deploy/build-image.sh [TAG]               (default wasmtask:latest)
#
# Environment:
#   DOCKER        the docker client (default: docker)
#   BASE_IMAGE    the base (default wasmtask-base:bookworm, see make-base-image.sh)
#   EXTRA_CA_DIR  a directory of *.crt files the build stage trusts (for a
#                 TLS-intercepting proxy in front of PyPI)
#
# Staging keeps the context small (no .venv, build/, .git) with any builder,
# including the classic one that ignores deploy/Dockerfile.dockerignore.
set -eu

TAG=${1:-wasmtask:latest}
REPO=$(cd "$(dirname "$0")/.." && pwd)
DOCKER=${DOCKER:-docker}
BASE_IMAGE=${BASE_IMAGE:-wasmtask-base:bookworm}

CONTEXT=$(mktemp -d "${TMPDIR:-/tmp}/wasmtask-context.XXXXXX")
trap 'rm -rf "$CONTEXT"' EXIT
cd "$REPO"
# The distribution: pyproject.toml, its packages (see [tool.setuptools]), deploy/.
set -- pyproject.toml deploy
for item in README.md isolates host_api toolchains guest_sdk gateway benches; do
    [ -e "$item" ] && set -- "$@" "$item"
done
tar -cf - --exclude=__pycache__ --exclude='*.pyc' "$@" | tar -C "$CONTEXT" -xf -
if [ -n "${EXTRA_CA_DIR:-}" ] && ls "$EXTRA_CA_DIR"/*.crt >/dev/null 2>&1; then
    cp "$EXTRA_CA_DIR"/*.crt "$CONTEXT/deploy/extra-ca/"
fi

DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} "$DOCKER" build --network host \
    --build-arg BASE_IMAGE="$BASE_IMAGE" -f "$CONTEXT/deploy/Dockerfile" -t "$TAG" "$CONTEXT"
