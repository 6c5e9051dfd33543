"""``python -m efex_gui``: the ``efex`` command line."""

import sys

from efex_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
