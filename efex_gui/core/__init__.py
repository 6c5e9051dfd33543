"""The Qt-free extraction core: readers, eCodes, features, rheobase, export."""
