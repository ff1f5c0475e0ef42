#!/usr/bin/env bash
# Build Restyle for macOS (Apple silicon): dist/Restyle.app, its frozen self-test, and
# dist/restyle-VERSION-macos-arm64.dmg; signed and notarised when the identity and profile are given.
#
#   packaging/macos/build_macos.sh                       unsigned .app and .dmg (runs on this Mac only after
#                                                        right-click > Open, or `xattr -dr com.apple.quarantine`)
#   RESTYLE_SIGN_IDENTITY="Developer ID Application: NAME (TEAMID)" \
#   RESTYLE_NOTARY_PROFILE=restyle-notary packaging/macos/build_macos.sh
#                                                        signed with the hardened runtime, notarised, stapled
#
# Needs: Xcode command line tools (codesign, hdiutil, xcrun), Python 3.10-3.13 for arm64. The notary profile is
# made once with: xcrun notarytool store-credentials restyle-notary --apple-id ID --team-id TEAMID
# (it asks for an app-specific password). docs/PACKAGING.md explains each step.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build_macos.sh runs on macOS" >&2; exit 1; }
VENV=${RESTYLE_VENV:-.venv-mac}
# PyPI's macOS arm64 torch wheel carries the MPS (Metal) backend; there is no CUDA on macOS.
export RESTYLE_VENV=$VENV RESTYLE_TORCH=${RESTYLE_TORCH:-torch==2.13.0}
scripts/setup
PY=$VENV/bin/python
"$PY" -m pip install --disable-pip-version-check -q "pyinstaller>=6,<7"
VERSION=$("$PY" -c "import desktop; print(desktop.__version__)")
ARCH=$(uname -m)
APP=dist/Restyle.app
DMG=dist/restyle-$VERSION-macos-$ARCH.dmg

"$PY" packaging/make_icons.py >/dev/null       # build/icons/restyle.icns, which the spec's BUNDLE uses
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build packaging/restyle.spec
# Precompiled sources (see build_linux.sh), before signing: the seal covers every file in the bundle, and a
# __pycache__ written later would break it (a frozen app never writes one anyway).
"$PY" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
    "$APP/Contents/Resources/transformers" "$APP/Contents/Resources/diffusers" >/dev/null \
    || echo "compileall: some modules did not compile; they will compile at import instead"

if [ -n "${RESTYLE_SIGN_IDENTITY:-}" ]; then
    # Hardened runtime (required for notarisation) with the entitlements a Python app with torch needs.
    codesign --force --deep --timestamp --options runtime \
        --entitlements packaging/macos/entitlements.plist --sign "$RESTYLE_SIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
else
    echo "RESTYLE_SIGN_IDENTITY not set: the app keeps PyInstaller's ad-hoc signature (not notarisable)"
fi

# The frozen self-test, signed as shipped.
check_dir=$(mktemp -d)
trap 'rm -rf "$check_dir"' EXIT
HF_HUB_OFFLINE=1 "$APP/Contents/MacOS/restyle-cli" --self-test --data-dir "$check_dir"

# The disk image: the app and a link to /Applications to drag it onto.
stage=$(mktemp -d)
cp -R "$APP" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$DMG"
hdiutil create -volname "Restyle $VERSION" -srcfolder "$stage" -fs HFS+ -format ULFO -ov "$DMG"
rm -rf "$stage"

if [ -n "${RESTYLE_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$RESTYLE_SIGN_IDENTITY" "$DMG"
    if [ -n "${RESTYLE_NOTARY_PROFILE:-}" ]; then
        # Apple scans the image (the app inside included); --wait returns its verdict, usually in minutes.
        xcrun notarytool submit "$DMG" --keychain-profile "$RESTYLE_NOTARY_PROFILE" --wait
        # The ticket goes into the image, so Gatekeeper accepts it offline too.
        xcrun stapler staple "$DMG"
        xcrun stapler validate "$DMG"
        spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
    else
        echo "RESTYLE_NOTARY_PROFILE not set: signed but not notarised"
    fi
fi
echo "$DMG: $(du -h "$DMG" | cut -f1); $APP: $(du -sh "$APP" | cut -f1)"
