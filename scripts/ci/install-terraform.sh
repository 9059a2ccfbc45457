#!/usr/bin/env bash
# Installs a pinned Terraform release from releases.hashicorp.com, refusing to install unless the
# zip's SHA256 matches the release's SHA256SUMS file. Used by the GitLab pipeline (.gitlab-ci.yml).
#
#   scripts/ci/install-terraform.sh [VERSION] [DEST_DIR]
#     VERSION   x.y.z, default 1.11.4 (keep in step with TERRAFORM_VERSION in scripts/lib/gitlab-ci.ts)
#     DEST_DIR  where the terraform binary goes, default /usr/local/bin
#   TERRAFORM_RELEASES_URL   base URL instead of https://releases.hashicorp.com/terraform
#                            (an internal mirror with the same layout; file:// works too)
#
# Needs bash, curl, unzip and sha256sum (all present in the node:20-bookworm image).
# Exit codes: 0 installed; 1 download, checksum or install failure; 2 usage error.
set -euo pipefail

readonly DEFAULT_VERSION="1.11.4"
readonly PROG="${0##*/}"

usage() {
  echo "usage: $PROG [VERSION] [DEST_DIR]   (default: $DEFAULT_VERSION /usr/local/bin)"
}

die() {
  echo "$PROG: $2" >&2
  exit "$1"
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
esac
if [ "$#" -gt 2 ]; then
  usage >&2
  exit 2
fi

version="${1:-$DEFAULT_VERSION}"
dest="${2:-/usr/local/bin}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die 2 "VERSION must look like 1.11.4, got '$version'"
[ -n "$dest" ] || die 2 "DEST_DIR must not be empty"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die 1 "unsupported OS $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die 1 "unsupported CPU $(uname -m)" ;;
esac

for tool in curl unzip sha256sum; do
  command -v "$tool" > /dev/null || die 1 "$tool is required"
done

base="${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}/$version"
zip="terraform_${version}_${os}_${arch}.zip"
sums="terraform_${version}_SHA256SUMS"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {
  curl --fail --silent --show-error --location --retry 3 --output "$work/$1" "$base/$1" || die 1 "download of $base/$1 failed"
}
fetch "$zip"
fetch "$sums"

# The one line of SHA256SUMS that names our zip; sha256sum --check then verifies the download.
awk -v f="$zip" '$2 == f' "$work/$sums" > "$work/expected"
[ "$(wc -l < "$work/expected")" -eq 1 ] || die 1 "$sums does not list $zip exactly once"
grep -Eq '^[0-9a-f]{64} ' "$work/expected" || die 1 "$sums has no SHA256 for $zip"
if ! (cd "$work" && sha256sum --check --strict --quiet expected); then
  die 1 "SHA256 of $zip does not match $sums: refusing to install"
fi
echo "$PROG: $zip matches $sums"

unzip -q -o "$work/$zip" terraform -d "$work/bin" || die 1 "$zip holds no terraform binary"
mkdir -p "$dest"
install -m 0755 "$work/bin/terraform" "$dest/terraform"
CHECKPOINT_DISABLE=1 "$dest/terraform" version
