#!/usr/bin/env bash
# Package the PyInstaller bundle dist/restyle/ for Linux, into dist/:
#   restyle-VERSION-linux-x86_64-FLAVOUR.tar.gz  the bundle, its desktop entry and icon, install-desktop-entry.sh
#   restyle_VERSION+FLAVOUR_amd64.deb            /opt/restyle, /usr/bin/restyle{,-cli}, menu entry and icons
#   Restyle.AppDir/ (+ Restyle-VERSION-x86_64-FLAVOUR.AppImage when appimagetool is on PATH or $APPIMAGETOOL)
# FLAVOUR is the torch build inside (cpu, cu128, ...): $RESTYLE_FLAVOUR, else asked of the bundle's own torch.
# packaging/build_linux.sh runs this after building and self-testing the bundle; run it alone to repackage.
# Compression (measured in docs/PERFORMANCE.md): RESTYLE_GZIP_LEVEL for the .tar.gz (default 6) and
# RESTYLE_DEB_COMPRESSION for the .deb (default "-Zzstd -z3": a ninth of gzip -6's CPU time and 11% smaller;
# every system the bundle runs on (glibc >= 2.36: Debian 12, Ubuntu 22.10 and later) has a dpkg that reads zstd).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIST=${1:-dist}
BUNDLE=$DIST/restyle
[ -x "$BUNDLE/restyle" ] || { echo "package.sh: no bundle at $BUNDLE; run packaging/build_linux.sh" >&2; exit 1; }
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py)
if [ -z "${RESTYLE_FLAVOUR:-}" ]; then
    if ls "$BUNDLE"/_internal/torch/lib/libtorch_cuda.so >/dev/null 2>&1; then
        RESTYLE_FLAVOUR=cuda
    else
        RESTYLE_FLAVOUR=cpu
    fi
fi
NAME=restyle-$VERSION-linux-x86_64-$RESTYLE_FLAVOUR
STAGE=$DIST/stage
rm -rf "$STAGE" "$DIST"/restyle-*-linux-x86_64-*.tar.gz "$DIST"/restyle_*.deb "$DIST/Restyle.AppDir" \
       "$DIST"/Restyle-*.AppImage
mkdir -p "$STAGE"
"${RESTYLE_VENV:-.venv}/bin/python" packaging/make_icons.py "$STAGE/icons" >/dev/null
# Hard links: the three layouts share the bundle's files instead of copying 1+ GB three times.
place_bundle() { mkdir -p "$(dirname "$1")"; cp -al "$BUNDLE" "$1"; }
took() { echo "$(( $(date +%s) - $1 )) s"; }

# --- .tar.gz: unpack anywhere and run restyle/restyle; install-desktop-entry.sh adds it to the menu. ---
t=$(date +%s)
place_bundle "$STAGE/tar/restyle"
cp resources/restyle.desktop resources/restyle.png packaging/linux/install-desktop-entry.sh "$STAGE/tar/restyle/"
tar -C "$STAGE/tar" -cf - restyle | gzip -"${RESTYLE_GZIP_LEVEL:-6}" > "$DIST/$NAME.tar.gz"
echo "tar.gz: $(du -h "$DIST/$NAME.tar.gz" | cut -f1) $DIST/$NAME.tar.gz ($(took "$t"))"

# --- .deb: dpkg installs it, removes it, and knows every file. ---
t=$(date +%s)
ROOTFS=$STAGE/deb
place_bundle "$ROOTFS/opt/restyle"
mkdir -p "$ROOTFS/usr/bin" "$ROOTFS/usr/share/applications" "$ROOTFS/DEBIAN"
# Relative links, so the package also works unpacked into another root (the bundle test installs it into one).
ln -s ../../opt/restyle/restyle "$ROOTFS/usr/bin/restyle"
ln -s ../../opt/restyle/restyle-cli "$ROOTFS/usr/bin/restyle-cli"
cp resources/restyle.desktop "$ROOTFS/usr/share/applications/restyle.desktop"
mkdir -p "$ROOTFS/usr/share/icons"
cp -r "$STAGE/icons/hicolor" "$ROOTFS/usr/share/icons/"
# The newest glibc symbol any of the bundle's binaries asks for (those of the build machine): the floor for libc6.
GLIBC=$(find "$BUNDLE" -type f \( -name "*.so*" -o -name restyle -o -name restyle-cli \) -print0 \
        | xargs -0 objdump -T 2>/dev/null | grep -o "GLIBC_[0-9.]*" | sort -uV | tail -1 | cut -d_ -f2 || true)
# Without objdump (binutils), the build machine's own glibc is a safe floor.
[ -n "$GLIBC" ] || GLIBC=$(getconf GNU_LIBC_VERSION | cut -d" " -f2)
# What the bundled Qt loads from the system (PyInstaller never bundles libGL/libEGL/libxcb), what its xcb
# platform plugin needs and this build machine did not have to bundle (icccm, keysyms), and what it bundled from
# this machine but another build machine might not have (cursor, xkbcommon-x11 and the other xcb pieces).
QT_DEPENDS="libgl1, libegl1, libxcb1, libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0, libxcb-image0, \
libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xkb1, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, \
libfontconfig1, libdbus-1-3, libglib2.0-0 | libglib2.0-0t64"
# No maintainer scripts: the menu and icon caches are refreshed by the dpkg triggers of desktop-file-utils
# and the icon theme. The dependencies are the system libraries the bundle's Qt does not carry (ldd over
# its plugins, see docs/PACKAGING.md); libxcb-cursor0 and friends are what Qt 6's xcb platform needs.
cat > "$ROOTFS/DEBIAN/control" <<CONTROL
Package: restyle
Version: $VERSION+$RESTYLE_FLAVOUR
Architecture: amd64
Maintainer: ${RESTYLE_MAINTAINER:-Restyle developers <maintainers@restyle.invalid>}
Installed-Size: $(du -sk --apparent-size "$ROOTFS" | cut -f1)
Depends: libc6 (>= $GLIBC), $QT_DEPENDS
Section: graphics
Priority: optional
Description: restyle your own images locally with diffusion models
 Restyle is a desktop app for artists: drop in a picture, describe a style and
 watch it denoise step by step. Every result is saved at once as a PNG that
 other tools can read. Torch build inside: $RESTYLE_FLAVOUR.
 .
 Check an install with: restyle-cli --self-test
CONTROL
# shellcheck disable=SC2086  # the compression setting is several options
# --root-owner-group: files owned by root in the package, without fakeroot.
dpkg-deb ${RESTYLE_DEB_COMPRESSION:--Zzstd -z3} --root-owner-group --build "$ROOTFS" \
    "$DIST/restyle_${VERSION}+${RESTYLE_FLAVOUR}_amd64.deb" >/dev/null
echo "deb: $(du -h "$DIST/restyle_${VERSION}+${RESTYLE_FLAVOUR}_amd64.deb" | cut -f1)" \
     "$DIST/restyle_${VERSION}+${RESTYLE_FLAVOUR}_amd64.deb ($(took "$t"))"

# --- AppDir, and the AppImage where appimagetool can be had (it is in no package registry this build uses). ---
APPDIR=$DIST/Restyle.AppDir
place_bundle "$APPDIR/usr/lib/restyle"
cp packaging/linux/AppRun "$APPDIR/AppRun"
cp resources/restyle.desktop "$APPDIR/restyle.desktop"
cp resources/restyle.png "$APPDIR/restyle.png"
ln -s restyle.png "$APPDIR/.DirIcon"
mkdir -p "$APPDIR/usr/share/applications"
cp resources/restyle.desktop "$APPDIR/usr/share/applications/"
mkdir -p "$APPDIR/usr/share/icons"
cp -r "$STAGE/icons/hicolor" "$APPDIR/usr/share/icons/"
tool=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [ -n "$tool" ]; then
    t=$(date +%s)
    ARCH=x86_64 "$tool" --no-appstream "$APPDIR" "$DIST/Restyle-$VERSION-x86_64-$RESTYLE_FLAVOUR.AppImage"
    echo "AppImage: $DIST/Restyle-$VERSION-x86_64-$RESTYLE_FLAVOUR.AppImage ($(took "$t"))"
else
    echo "AppDir: $APPDIR (no appimagetool here; to make the AppImage: ARCH=x86_64 appimagetool $APPDIR," \
         "see docs/PACKAGING.md)"
fi
rm -rf "$STAGE"
