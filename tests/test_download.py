"""Tests for ovid.download against a local threaded HTTP server (never the internet)."""
from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ovid.download import DATASETS, download_file, download_gpt2_output
from ovid.errors import DownloadError

CONTENT = random.Random(1234).randbytes(50_000)
CHUNK = 4096


@dataclass
class Server:
    """Test server state: the files it serves, behaviour switches and a request log."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    ignore_range: bool = False
    cut_after: int | None = None  # send a full Content-Length but close after this many body bytes
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range)
    bytes_served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _make_handler(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def _respond(self, with_body: bool) -> None:
            rng = self.headers.get("Range")
            with state.lock:
                state.requests.append((self.command, self.path, rng))
            data = state.files.get(self.path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            m = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if m and not state.ignore_range:
                start = int(m.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = data[start:]
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                body = data
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not with_body:
                return
            if state.cut_after is not None:
                body = body[: state.cut_after]
            self.wfile.write(body)
            self.wfile.flush()
            with state.lock:
                state.bytes_served += len(body)
            # HTTP/1.0 handler: returning closes the connection, so a cut body ends early.

        def do_GET(self) -> None:
            self._respond(with_body=True)

        def do_HEAD(self) -> None:
            self._respond(with_body=False)

    return Handler


@pytest.fixture
def server():
    state = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    state.files["/data.bin"] = CONTENT
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _get(server: Server, dest: Path, **kw) -> Path:
    kw.setdefault("progress", False)
    return download_file(f"{server.url}/data.bin", dest, chunk_size=CHUNK, timeout=5.0, **kw)


def test_fresh_download(server, tmp_path):
    dest = tmp_path / "sub" / "data.bin"
    assert _get(server, dest, progress=True) == dest
    assert dest.read_bytes() == CONTENT
    assert not dest.with_name("data.bin.part").exists()
    assert server.bytes_served == len(CONTENT)
    assert server.requests == [("GET", "/data.bin", None)]


def test_resume_from_part(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(CONTENT[:1000])
    _get(server, dest)
    assert dest.read_bytes() == CONTENT
    assert server.requests == [("GET", "/data.bin", "bytes=1000-")]
    assert server.bytes_served == len(CONTENT) - 1000
    assert not dest.with_name("data.bin.part").exists()


def test_cut_short_then_resume(server, tmp_path):
    dest = tmp_path / "data.bin"
    part = dest.with_name("data.bin.part")
    url = f"{server.url}/data.bin"
    server.cut_after = 20_000
    with pytest.raises(DownloadError) as exc:
        _get(server, dest)
    msg = str(exc.value)
    assert url in msg and str(len(CONTENT)) in msg and "20000" in msg and "\n" not in msg
    assert not dest.exists()
    assert part.read_bytes() == CONTENT[:20_000]

    server.cut_after = None
    server.bytes_served = 0
    _get(server, dest)
    assert dest.read_bytes() == CONTENT
    assert not part.exists()
    assert server.requests[-1] == ("GET", "/data.bin", "bytes=20000-")
    assert server.bytes_served == len(CONTENT) - 20_000


def test_server_ignoring_range_restarts(server, tmp_path):
    dest = tmp_path / "data.bin"
    # Wrong bytes in the .part prove they are truncated rather than appended to.
    dest.with_name("data.bin.part").write_bytes(b"\xff" * 1000)
    server.ignore_range = True
    _get(server, dest)
    assert dest.read_bytes() == CONTENT
    assert server.requests == [("GET", "/data.bin", "bytes=1000-")]
    assert server.bytes_served == len(CONTENT)


def test_416_with_full_part_means_done(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(CONTENT)
    _get(server, dest)
    assert dest.read_bytes() == CONTENT
    assert server.bytes_served == 0
    assert not dest.with_name("data.bin.part").exists()


def test_existing_dest_is_trusted(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(CONTENT)
    _get(server, dest)
    assert server.requests == []


def test_404_names_url(server, tmp_path):
    url = f"{server.url}/missing.bin"
    with pytest.raises(DownloadError, match=re.escape(url) + ".*404"):
        download_file(url, tmp_path / "missing.bin", progress=False, timeout=5.0)
    assert not (tmp_path / "missing.bin").exists()


def test_connection_refused_names_url(tmp_path):
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as s:
        port = s.server_address[1]  # closed on exit, so nothing listens there afterwards
    url = f"http://127.0.0.1:{port}/x.bin"
    with pytest.raises(DownloadError, match=re.escape(url)):
        download_file(url, tmp_path / "x.bin", progress=False, timeout=5.0)


def test_unknown_dataset_and_split(tmp_path):
    with pytest.raises(DownloadError) as exc:
        download_gpt2_output(["gpt-5"], ["test"], tmp_path, base_url="http://127.0.0.1:9")
    msg = str(exc.value)
    assert "gpt-5" in msg and all(name in msg for name in DATASETS)
    with pytest.raises(DownloadError, match="train, valid, test"):
        download_gpt2_output(["webtext"], ["dev"], tmp_path, base_url="http://127.0.0.1:9")


def test_download_gpt2_output(server, tmp_path):
    lines = [{"id": i, "text": f"Sample text number {i}.", "length": 3, "ended": True} for i in range(5)]
    payload = "".join(json.dumps(line) + "\n" for line in lines).encode()
    server.files["/gpt-2/xl-1542M-k40.test.jsonl"] = payload
    out = tmp_path / "out"
    paths = download_gpt2_output(["xl-1542M-k40"], ["test"], out, base_url=server.url + "/gpt-2/",
                                 progress=False)
    assert paths == [out / "xl-1542M-k40.test.jsonl"]
    assert paths[0].read_bytes() == payload
    assert [json.loads(line) for line in paths[0].read_text().splitlines()] == lines
