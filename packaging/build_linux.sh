#!/usr/bin/env bash
# Build the Linux bundle dist/restyle/ and dist/restyle-linux-x86_64.tar.gz, then self-test the frozen app.
# Usage: packaging/build_linux.sh   (from anywhere; uses the repository's .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install "pyinstaller>=6,<7"
fi
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

tar -C dist -czf dist/restyle-linux-x86_64.tar.gz restyle
echo "archive: $(du -h dist/restyle-linux-x86_64.tar.gz | cut -f1) dist/restyle-linux-x86_64.tar.gz" \
     "(total $(( $(date +%s) - start )) s)"
