"""Cell-level analysis beside the e-features: summary, curves, waveforms, cursors.

Qt-free. Everything here reads the cells the extraction built (so exclusions,
windows and overrides apply) and reaches efel only through
:meth:`efex_gui.core.recordings.recording.Recording.call_efel`.
"""
