"""Checks on where ovid will write, made before any heavy work: an output is never one of the
inputs, its folder can be written, and a folder ovid writes into is new, empty, or one that ovid
itself made (a saved detector, a study, a folder of corpora). Each refusal is one line naming
the option and the path."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import OutputError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _input_paths(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    return [Path(i) for i in inputs if not str(i).startswith(("ovid:", "hf:"))]


def check_writable(folder: Path, option: str, out: str | os.PathLike) -> None:
    """The nearest existing folder at or above `folder` accepts a new file (tried, not guessed
    from permission bits, which root ignores)."""
    at = Path(os.path.abspath(folder))
    while not at.exists():
        at = at.parent
    if not at.is_dir():
        raise OutputError(f"{option} {out}: {at} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=at, prefix=".ovid-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{option} {out}: cannot write in {at} ({e.strerror})") from None


def sidecar_of(path: Path) -> Path:
    """`x.jsonl` -> `x.meta.json`: the metadata ovid keeps beside a corpus (ovid/corpus.meta_path)."""
    return path.with_name(path.name.removesuffix(".jsonl").removesuffix(".json") + ".meta.json")


def check_output_file(out: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                      option: str = "--out", overwrite: bool = False, has_overwrite: bool = True,
                      ours: Callable[[Path], bool] | None = None, what: str = "a file ovid wrote") -> Path:
    """A file ovid will write (atomically): not a folder, not an input or an input's sidecar, in
    a writable place; and, if a file is there already, one that `ours` recognises as a file ovid
    wrote (by its content, not its name), unless `overwrite`; the refusal offers --overwrite
    only where the command `has_overwrite`. Links are followed before every check."""
    if str(out) == "-":
        raise OutputError(f"{option} -: give a file name (standard output is not a file ovid writes atomically)")
    path = Path(out)
    real = Path(os.path.realpath(path))
    if real.is_dir():
        raise OutputError(f"{option} {out}: is a folder; give a file name")
    for src in _input_paths(inputs):
        if _same(real, src) or (src.is_dir() and real.is_relative_to(src.resolve())):
            raise OutputError(f"{option} {out}: is also an input ({src}); ovid never writes over its input")
        if src.is_file() and real == Path(os.path.realpath(sidecar_of(src))):
            raise OutputError(f"{option} {out}: is the metadata of an input ({src}); ovid never writes over it")
    if real.exists() and not overwrite and not (ours is not None and ours(real)):
        how = "give --overwrite to replace it, or another name" if has_overwrite else "give another name"
        raise OutputError(f"{option} {out}: a file is there that is not {what}; {how}")
    check_writable(real.parent, option, out)
    return path


def check_output_dir(out: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                     option: str = "--out", ours: Callable[[Path], bool] | None = None,
                     what: str = "made by ovid") -> Path:
    """A folder ovid will write into: absent, empty, or one for which `ours` says ovid made it
    (so a rerun can resume or replace it). Never a folder that holds an input."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {out}: is a file, not a folder")
    for src in _input_paths(inputs):
        if src.exists() and (_same(path, src) or src.resolve().is_relative_to(path.resolve())):
            raise OutputError(f"{option} {out}: holds an input ({src}); give a folder of its own")
        if src.is_dir() and path.resolve().is_relative_to(src.resolve()):
            raise OutputError(f"{option} {out}: is inside an input folder ({src}); ovid never writes into its input")
    if path.is_dir() and any(path.iterdir()) and not (ours and ours(path)):
        raise OutputError(f"{option} {out}: folder exists and is not empty, and is not a folder {what}; "
                          f"give a new or empty folder")
    check_writable(path, option, out)
    return path


def _entries(path: Path) -> set[str] | None:
    """The names in a folder, or None where nothing is (a file counts as one entry, itself)."""
    if path.is_dir() and not path.is_symlink():
        return {p.name for p in path.iterdir()}
    return set() if os.path.lexists(path) else None


@contextmanager
def left_as_found_on_failure(*paths: Path, holds_work: Callable[[], bool]) -> Iterator[None]:
    """A job's outputs (files or folders) as a failure finds them: if the job stops before
    `holds_work()` (work a rerun would resume from), what this run created among `paths` goes,
    and what was there before stays. A failure after work was saved leaves it, to resume."""
    before = {p: _entries(p) for p in paths}
    try:
        yield
    except BaseException:
        try:
            if not holds_work():
                for p in reversed(paths):
                    _remove_new(p, before[p])
        except OSError:
            pass  # cleaning up must never hide the error that stopped the job
        raise


def missing_top(folder: Path) -> list[Path]:
    """[the highest folder at or above `folder` that does not exist yet], or [] if it exists:
    what making `folder` would create, for left_as_found_on_failure."""
    at = Path(os.path.abspath(folder))
    if at.exists():
        return []
    while not at.parent.exists():
        at = at.parent
    return [at]


def _remove_new(path: Path, before: set[str] | None) -> None:
    if before is None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif os.path.lexists(path):
            path.unlink()
    elif path.is_dir() and not path.is_symlink():
        for name in {p.name for p in path.iterdir()} - before:
            _remove_new(path / name, None)
