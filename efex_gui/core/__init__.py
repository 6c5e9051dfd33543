"""The Qt-free extraction core: readers, recordings, features, rheobase, extraction.

The rooms, from the bottom up (a room imports only rooms below it): ``errors``,
``units``, ``features``, ``importing``, ``readers``, ``recordings``, ``rheobase``,
``session``, ``targets``, ``export``, ``extraction``; ``synthetic`` stands aside.
See ``docs/architecture.md``.
"""

from efex_gui.core import pickle_compat

pickle_compat.install()  # pickles written before the rooms (issue 11) still load
