"""efex_gui: see, curate and extract e-features from patch-clamp recordings.

Importing this package never imports Qt; the GUI lives in ``efex_gui.app`` and
``efex_gui.widgets`` and is only loaded by ``efex-gui``.
"""

__version__ = "0.1.0"
