#!/usr/bin/env bash
# Installs the prebuilt OHIF viewer that the hub serves at /viewer: the `dist/` folder of the npm
# registry's `@ohif/app` package, at the version pinned below, checked against the registry's
# integrity hash before anything is extracted. Writes only web/ohif/dist/ and web/ohif/.installed
# (both git-ignored; OHIF's files are never committed). Idempotent: does nothing when the pinned
# version is already there. No OHIF build, no network when the hub runs.
#
# 3.13.2's prebuilt viewer has an ECG viewport (12-lead waveforms); 3.12.0's had none.
# To move to another version: `npm view @ohif/app@X dist.tarball dist.integrity`, set the three
# values below (SHA512_HEX is the integrity's base64 digest in hex:
# `python3 -c "import base64,sys;print(base64.b64decode(sys.argv[1]).hex())" <digest>`), run this
# script and the OHIF end-to-end test (cargo test -p e2e --test ohif).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="3.13.2"
TARBALL="https://registry.npmjs.org/@ohif/app/-/app-${VERSION}.tgz"
# The registry's dist.integrity: sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==
SHA512_HEX="5997719a9986eeba85816f5924b71b82bdd70ad2e2d4a0cd3e831a798e4f3deea3e06e1f8c48e393271933a0ba664d85f3b04ac457e9abe8dde715d907d13c10"

DEST="web/ohif"
STAMP="$DEST/.installed"
WANT="@ohif/app@${VERSION} sha512:${SHA512_HEX}"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -f "$DEST/dist/index.html" ]; then
    echo "OHIF viewer @ohif/app@${VERSION} already in $DEST/dist"
    exit 0
fi
command -v curl >/dev/null || { echo "fetch-ohif.sh needs curl (apt-get install curl)" >&2; exit 1; }
command -v tar >/dev/null || { echo "fetch-ohif.sh needs tar" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/fetch-ohif.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "downloading @ohif/app@${VERSION} from the npm registry ($TARBALL)"
curl --fail --location --silent --show-error --retry 3 -o "$work/app.tgz" "$TARBALL"
if ! echo "${SHA512_HEX}  $work/app.tgz" | sha512sum --check --status; then
    echo "the downloaded $TARBALL does not match the pinned sha512; nothing was installed" >&2
    exit 1
fi
tar -xzf "$work/app.tgz" -C "$work" package/dist
[ -f "$work/package/dist/index.html" ] || {
    echo "@ohif/app@${VERSION} has no dist/index.html; nothing was installed" >&2
    exit 1
}
mkdir -p "$DEST"
rm -rf "$DEST/dist" "$STAMP"
mv "$work/package/dist" "$DEST/dist"
echo "$WANT" > "$STAMP"
echo "OHIF viewer @ohif/app@${VERSION} installed in $DEST/dist"
