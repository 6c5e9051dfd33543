"""Session: the saved project and the lazy dataset listing the GUI shows.

The project holds the settings, files_metadata and exclusions.

Import from the submodules; this package's ``__init__`` stays empty.
"""
