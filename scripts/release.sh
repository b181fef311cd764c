#!/usr/bin/env bash
# release.sh: builds telchat release binaries with the version stamped.
#
# usage: scripts/release.sh [VERSION] [OUTDIR]
#   VERSION  default: the exact git tag of HEAD, else v0.0.0-dev+COMMIT
#   OUTDIR   default: dist/ in the repository root
#   PLATFORMS (environment) default "linux/amd64 linux/arm64"
#
# Writes OUTDIR/telchat-VERSION-OS-ARCH for each platform and
# OUTDIR/SHA256SUMS (check with: cd OUTDIR && sha256sum -c SHA256SUMS).
# The binaries are static (CGO_ENABLED=0, no libc needed), built with
# -trimpath, and stamped with -ldflags -X: `telchat -version` prints the
# version, the commit and the Go version.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- 2>/dev/null; then commit="$commit+dirty"; fi
version="${1:-}"
if [[ -z "$version" ]]; then
	version="$(git describe --tags --exact-match 2>/dev/null || echo "v0.0.0-dev+${commit:0:12}")"
fi
if [[ ! "$version" =~ ^[A-Za-z0-9._+-]+$ ]]; then
	echo "release.sh: version $version: use letters, digits and . _ + - only" >&2
	exit 2
fi
out="${2:-$ROOT/dist}"
platforms="${PLATFORMS:-linux/amd64 linux/arm64}"
mkdir -p "$out"

files=()
for p in $platforms; do
	os="${p%/*}" arch="${p#*/}"
	name="telchat-$version-$os-$arch"
	echo "building $name" >&2
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.releaseVersion=$version -X main.releaseCommit=$commit" \
		-o "$out/$name" .
	files+=("$name")
done
(cd "$out" && sha256sum "${files[@]}" >SHA256SUMS)
echo "wrote ${files[*]} and SHA256SUMS to $out" >&2
