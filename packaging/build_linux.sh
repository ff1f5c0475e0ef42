#!/usr/bin/env bash
# Build the Linux bundle dist/restyle/, self-test it frozen, then package it (packaging/linux/package.sh):
# a .tar.gz, a .deb, an AppDir (and an AppImage where appimagetool is installed). docs/PACKAGING.md has more.
#
#   packaging/build_linux.sh                      the CPU bundle, from .venv (torch as scripts/setup installs it)
#   RESTYLE_VENV=.venv-cuda RESTYLE_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" \
#       packaging/build_linux.sh                  the CUDA bundle, from its own virtualenv (on a CUDA workstation)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RESTYLE_VENV:-.venv}
export RESTYLE_VENV=$VENV
scripts/setup
PY=$VENV/bin/python
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install --disable-pip-version-check -q "pyinstaller>=6,<7"
fi
# The torch build decides the bundle's flavour (and its size: docs/PACKAGING.md).
flavour=$("$PY" -c "import torch; v = torch.version; print('cu' + v.cuda.replace('.', '') if v.cuda else
                    'rocm' + v.hip.split('-')[0] if getattr(v, 'hip', None) else 'cpu')")
echo "torch $("$PY" -c "import torch; print(torch.__version__)") ($flavour)"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build packaging/restyle.spec
# transformers and diffusers are collected as .py sources (their lazy imports read them), and a frozen app
# never writes __pycache__, so without this every start compiles the modules it imports (measured: 0.5-4 s of
# a 10-14 s self-test on a busy 2-core machine). Same interpreter as the bundle's, so the magic number matches;
# unchecked-hash pycs stay valid whatever an installer does to the files' mtimes.
"$PY" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
    dist/restyle/_internal/transformers dist/restyle/_internal/diffusers >/dev/null \
    || echo "compileall: some modules did not compile; they will compile at import instead"
echo "build: $(( $(date +%s) - start )) s, bundle $(du -sh dist/restyle | cut -f1)"

# The frozen self-test, in a throwaway data folder, with no display and no network.
check_dir=$(mktemp -d)
trap 'rm -rf "$check_dir"' EXIT
for exe in restyle-cli restyle; do
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 \
        "dist/restyle/$exe" --self-test --data-dir "$check_dir" | tee "$check_dir/$exe.out"
    grep -q "^self-test passed" "$check_dir/$exe.out"
done

RESTYLE_FLAVOUR=$flavour packaging/linux/package.sh dist
echo "total: $(( $(date +%s) - start )) s"
