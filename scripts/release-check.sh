#!/usr/bin/env bash
# `make release-check`: validates .goreleaser.yaml and builds a snapshot of all
# six targets offline, with a pinned goreleaser installed into .cache/bin.
#   - goreleaser v2.16.0 is pinned: later versions need a module the proxy
#     here refuses. Override with GORELEASER_VERSION at your own risk.
#   - RELEASE_CHECK_FULL=1 also runs `goreleaser release --snapshot --clean`
#     (archives, checksums, deb/rpm, cask and scoop files in dist/; nothing is
#     published: release is disabled and every publisher has skip_upload).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
GORELEASER_VERSION=${GORELEASER_VERSION:-v2.16.0}
BIN=$PWD/.cache/bin
GORELEASER=$BIN/goreleaser

installed=""
if [ -x "$GORELEASER" ]; then
  installed=$("$GO" version -m "$GORELEASER" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || true
fi
if [ "$installed" != "$GORELEASER_VERSION" ]; then
  echo "release-check: installing goreleaser $GORELEASER_VERSION into .cache/bin (had: ${installed:-none})"
  GOBIN=$BIN GOFLAGS= "$GO" install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi
echo "release-check: goreleaser $GORELEASER_VERSION"

# goreleaser v2.16 treats a repository without a remote as a git error; in
# snapshot mode it then drops *all* git info (commit "none", date year 1,
# mod_timestamp 0). Give git a remote URL for this process only (git >= 2.31
# reads config from the environment); the repository's config is untouched.
if [ -z "$(git remote 2>/dev/null)" ]; then
  export GIT_CONFIG_COUNT=1
  export GIT_CONFIG_KEY_0=remote.origin.url
  export GIT_CONFIG_VALUE_0=https://github.com/sesame-auth/sesame.git
fi

# goreleaser check exits non-zero on errors and on deprecated properties.
"$GORELEASER" check

if [ "${RELEASE_CHECK_FULL:-0}" = 1 ]; then
  "$GORELEASER" release --snapshot --clean
else
  "$GORELEASER" build --snapshot --clean
fi

echo "release-check: binaries in dist/:"
found=0
while IFS= read -r f; do
  printf '  %-48s %10d bytes\n' "$f" "$(stat -c %s "$f")"
  found=$((found + 1))
done < <(find dist -type f \( -name sesame -o -name sesame.exe \) | sort)
if [ "$found" -ne 6 ]; then
  echo "release-check: expected 6 binaries, found $found" >&2
  exit 1
fi

linux=$(find dist -type f -name sesame -path '*linux_amd64*' | head -n 1)
size=$(stat -c %s "$linux")
echo "release-check: linux/amd64 (stripped, -s -w): $size bytes ($(( (size + 524288) / 1048576 )) MiB)"
if [ "$("$GO" env GOOS)/$("$GO" env GOARCH)" = linux/amd64 ]; then
  echo "release-check: $("$linux" version)"
fi
