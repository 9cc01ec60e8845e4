#!/usr/bin/env bash
# Fast cross-compile check for `make test` (no goreleaser needed): builds
# ./cmd/sesame for the six release targets exactly as .goreleaser.yaml does
# (CGO_ENABLED=0, -trimpath) without writing a binary, and runs `go vet` for
# the non-Linux targets so their build-tagged files are checked too.
# One line per target; stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)
start=$SECONDS
for t in "${targets[@]}"; do
  os=${t%/*} arch=${t#*/}
  t0=$SECONDS
  if ! CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -o /dev/null ./cmd/sesame; then
    echo "cross: $os/$arch: build FAILED" >&2
    exit 1
  fi
  vetted=""
  if [ "$os" != linux ]; then
    if ! CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" vet ./...; then
      echo "cross: $os/$arch: vet FAILED" >&2
      exit 1
    fi
    vetted=" + vet"
  fi
  echo "cross: $os/$arch: ok (build$vetted, $((SECONDS - t0)) s)"
done
echo "cross: all ${#targets[@]} targets ok in $((SECONDS - start)) s"
