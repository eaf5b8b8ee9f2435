"""Reading texts for capture: UTF-8 or a clear error naming the file."""

import pathlib


class TextError(Exception):
    pass


def read_utf8(path: pathlib.Path) -> str:
    try:
        raw = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TextError(f"{path}: is a folder, not a text file") from None
    except OSError as e:
        raise TextError(f"{path}: cannot be read: {e.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TextError(f"{path}: not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None
