"""Format readers behind :func:`toolkit.read.read`.

One module per format family; each exposes a ``read_<name>(data, ctx)`` function that
turns parsed input into :class:`toolkit.readers._common.Conv` objects. Detection lives in
:mod:`toolkit.readers.detect`, safe zip/gzip handling in :mod:`toolkit.readers._zip`.
"""
