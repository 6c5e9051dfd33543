#!/usr/bin/env bash
# Build the one-folder efex-gui bundle with PyInstaller, then smoke-test it.
#
#   bash packaging/build_bundle.sh            # build into dist/efex-gui, then smoke test
#   bash packaging/build_bundle.sh --no-test  # build only
#
# Environment: PYTHON (default python3) is the interpreter whose packages are bundled;
# DIST and WORK (default dist/ and build/pyinstaller/ in the checkout) are PyInstaller's
# output and scratch folders. Prints the build time and the bundle size.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
DIST="${DIST:-$PWD/dist}"
WORK="${WORK:-$PWD/build/pyinstaller}"
RUN_TEST=1
[ "${1:-}" = "--no-test" ] && RUN_TEST=0

# PyInstaller reads ELF files with objdump (binutils) on Linux.
if [ "$(uname -s)" = "Linux" ] && ! command -v objdump >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get install -y -qq binutils >/dev/null || echo "warning: could not install binutils"
  else
    echo "warning: objdump not found (install binutils)" >&2
  fi
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
fi
# The bundle takes the installed dependencies of this interpreter: make sure they are there.
"$PYTHON" -c "import efel, neo, igor2, h5py, PySide6, pyqtgraph" 2>/dev/null \
  || "$PYTHON" -m pip install --quiet -e .

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" packaging/pyinstaller/efex_gui.spec
end=$(date +%s)
size=$(du -sh "$DIST/efex-gui" | cut -f1)
echo "bundle: $DIST/efex-gui (${size}), built in $((end - start)) s"

if [ "$RUN_TEST" = 1 ]; then
  "$PYTHON" packaging/smoke_test.py "$DIST/efex-gui"
fi
