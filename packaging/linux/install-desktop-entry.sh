#!/bin/sh
# Adds this unpacked Restyle to your application menu (no root needed): a desktop entry that runs the
# `restyle` beside this script, and the icon. Undo: delete the two files it names.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
share=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$share/applications" "$share/icons/hicolor/256x256/apps"
cp "$here/restyle.png" "$share/icons/hicolor/256x256/apps/restyle.png"
sed "s|^Exec=restyle |Exec=\"$here/restyle\" |" "$here/restyle.desktop" > "$share/applications/restyle.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$share/applications" 2>/dev/null || true
echo "Restyle is in the application menu: $share/applications/restyle.desktop," \
     "$share/icons/hicolor/256x256/apps/restyle.png"
