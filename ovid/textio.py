"""The one place ovid reads text files: decoded strictly (UTF-8 unless told otherwise), so a file
in another encoding is an error naming the file, line and byte offset instead of a traceback or
silently wrong text."""
from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Iterator

from .errors import CorpusError

DEFAULT_ENCODING = "utf-8"
# a whole-file read (a .txt text, a .json or .toml document): far past any one text or study file,
# short of what a machine's memory holds; line-based files (.jsonl) are read a line at a time
MAX_WHOLE_FILE_BYTES = 512 << 20


def check_regular_file(path: str | os.PathLike) -> None:
    """Refuse, without opening it, what is not a regular file once links are followed: a FIFO
    (reading it waits for a writer forever), a device (/dev/zero never ends), a socket."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file or folder") from None
    except OSError as e:
        raise CorpusError(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    raise CorpusError(f"{path}: {kind}; ovid reads regular files and folders only")


def check_encoding(encoding: str) -> str:
    """A known text encoding in which a newline is the byte 0x0A (line-based formats split on it)."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise CorpusError(f"--encoding: unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)")
    if "\n".encode(info.name) != b"\n":
        raise CorpusError(f"--encoding: {encoding} is not ASCII-compatible; convert the file to UTF-8 first")
    return info.name


def _decode(data: bytes, path: str | os.PathLike, encoding: str, offset: int = 0, line: int | None = None) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        if line is None:  # a whole file: say which line the bad byte is on
            line = data[:e.start].count(b"\n") + 1
        where = f"{path}:{line}"
        name = "UTF-8" if _is_utf8(encoding) else encoding
        raise CorpusError(f"{where}: not {name} text (byte {offset + e.start}: {data[e.start:e.start + 4]!r}); "
                          f"give --encoding if it is another encoding") from None


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def read_text(path: str | os.PathLike, encoding: str = DEFAULT_ENCODING) -> str:
    """A whole file as text (a UTF-8 byte-order mark is dropped)."""
    data, skipped = _read_bytes(path), 0
    if _is_utf8(encoding) and data.startswith(codecs.BOM_UTF8):
        data, skipped = data[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
    return _decode(data, path, encoding, offset=skipped)


def iter_lines(path: str | os.PathLike, encoding: str = DEFAULT_ENCODING, *, start: int = 0,
               end: int | None = None, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, line text) for each line of a file, decoded line by line so an error names
    the line and the byte offset in the file. `start`/`end` read only the lines that begin in
    that byte range (`start` at a line's first byte, numbered `first_line`)."""
    offset = start
    check_regular_file(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise CorpusError(f"{path}: cannot read ({e.strerror})") from None
    with f:
        f.seek(start)
        for lineno, raw in enumerate(f, first_line):
            if end is not None and offset >= end:
                break
            at, size = offset, len(raw)
            if at == 0 and raw.startswith(codecs.BOM_UTF8) and _is_utf8(encoding):
                raw, at = raw[3:], 3
            yield lineno, _decode(raw, path, encoding, at, lineno)
            offset += size


def _read_bytes(path: str | os.PathLike) -> bytes:
    check_regular_file(path)
    size = os.stat(path).st_size
    if size > MAX_WHOLE_FILE_BYTES:
        raise CorpusError(f"{path}: {size} bytes, over the {MAX_WHOLE_FILE_BYTES >> 20} MiB ovid reads as one "
                          "document; split it (one text per line in .jsonl)")
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise CorpusError(f"{path}: cannot read ({e.strerror})") from None
