"""Download OpenAI's gpt-2-output-dataset files (stdlib urllib, resumable, verified).

Each file is fetched into `<dest>.part`, resumed with an HTTP Range request when that
file already exists, checked against the size the server announced, then fsynced and
renamed over `<dest>` so a final file only ever appears complete.
"""
from __future__ import annotations

import http.client
import os
import re
from pathlib import Path
from typing import Sequence
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from ovid.errors import DownloadError
from ovid.paths import check_output_dir, left_as_found_on_failure, missing_top

DEFAULT_BASE_URL = "https://openaipublic.azureedge.net/gpt-2/output-dataset/v1"
DATASETS = (
    "webtext",
    "small-117M", "small-117M-k40",
    "medium-345M", "medium-345M-k40",
    "large-762M", "large-762M-k40",
    "xl-1542M", "xl-1542M-k40",
)
SPLITS = ("train", "valid", "test")

_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """Return (first byte, total size) from a Content-Range header; None where absent or '*'."""
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None, None
    start, total = m.groups()
    return (int(start) if start else None), (int(total) if total and total != "*" else None)


def _finish(part: Path, dest: Path) -> Path:
    os.replace(part, dest)
    return dest


def download_file(url: str, dest: Path, *, chunk_size: int = 1 << 20, timeout: float = 30.0,
                  progress: bool = True) -> Path:
    """Download `url` to `dest`, resuming from `dest`.part; return `dest`.

    An existing `dest` is trusted without touching the network: this function only ever
    creates it by renaming a .part whose size matched the server's, so it is complete.
    Raises DownloadError (one line, naming the URL) on HTTP/network failure or a size
    mismatch; the bytes received so far stay in the .part so a rerun resumes.
    """
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        resp = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as e:
        if e.code == 416 and have:
            _, total = _parse_content_range(e.headers.get("Content-Range"))
            if total == have:  # the .part already holds the whole file
                return _finish(part, dest)
            raise DownloadError(f"{url}: server refused to resume at byte {have} (total size "
                                f"{total if total is not None else 'unknown'}); delete {part} and retry") from None
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (URLError, OSError, http.client.HTTPException) as e:
        raise DownloadError(f"{url}: {getattr(e, 'reason', None) or e}") from None

    with resp:
        if resp.status == 206:
            start, total = _parse_content_range(resp.headers.get("Content-Range"))
            if start != have:
                raise DownloadError(f"{url}: asked for bytes from {have}, server sent from {start}")
            mode = "ab"
        else:  # 200: the server ignored Range (or there was none), so start over
            have, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        with open(part, mode) as f, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                         unit_divisor=1024, desc=dest.name, disable=not progress) as bar:
            try:
                while chunk := resp.read(chunk_size):
                    f.write(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as e:
                raise DownloadError(f"{url}: transfer failed after {f.tell()} bytes: {e!r}") from None
            finally:
                # Keep what arrived durable, so a rerun resumes from it rather than from zero.
                f.flush()
                os.fsync(f.fileno())
    size = part.stat().st_size
    # Without a Content-Length the server gave no size to check against; accept what came.
    if total is not None and size != total:
        raise DownloadError(f"{url}: incomplete download, expected {total} bytes, got {size} "
                            f"(kept in {part}; rerun to resume)")
    return _finish(part, dest)


def _holds_only_downloads(folder: Path) -> bool:
    """Every file is one of the dataset's (`NAME.SPLIT.jsonl`, or its `.part` while downloading)."""
    ok = {f"{n}.{s}.jsonl" for n in DATASETS for s in SPLITS}
    return all(p.name.removesuffix(".part") in ok for p in folder.iterdir())


def download_gpt2_output(names: Sequence[str], splits: Sequence[str], out_dir: Path, *,
                         base_url: str = DEFAULT_BASE_URL, progress: bool = True) -> list[Path]:
    """Download `{name}.{split}.jsonl` for every name x split into `out_dir`; return the paths."""
    if isinstance(names, str) or isinstance(splits, str):
        raise DownloadError("names and splits must be sequences of strings, not a single string")
    bad = [n for n in names if n not in DATASETS]
    if bad:
        raise DownloadError(f"unknown dataset(s) {', '.join(bad)}; valid names: {', '.join(DATASETS)}")
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise DownloadError(f"unknown split(s) {', '.join(bad)}; valid splits: {', '.join(SPLITS)}")
    out_dir = check_output_dir(out_dir, option="--out-dir", ours=_holds_only_downloads,
                               what="of gpt-2-output-dataset files")
    base = base_url.rstrip("/")
    paths = []
    # a failure before a byte arrived leaves no empty folder; a .part file stays to resume from
    with left_as_found_on_failure(*(missing_top(out_dir) or [out_dir]),
                                  holds_work=lambda: any(p.stat().st_size for p in out_dir.glob("*"))):
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            for split in splits:
                fname = f"{name}.{split}.jsonl"
                paths.append(download_file(f"{base}/{fname}", out_dir / fname, progress=progress))
    return paths
