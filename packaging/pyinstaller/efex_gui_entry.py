"""Entry point of the frozen ``efex-gui`` (PyInstaller runs this file as ``__main__``).

``efex-gui cli ARGS`` runs the command line (``efex ARGS``) from the same bundle, so one
folder gives both faces; anything else starts the GUI.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes re-enter the frozen exe
    if len(sys.argv) > 1 and sys.argv[1] == "cli":
        from efex_gui.cli import main as cli_main

        sys.exit(cli_main(sys.argv[2:]))
    from efex_gui.app.main import main

    sys.exit(main(sys.argv[1:]))
