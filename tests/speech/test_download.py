"""Installing a catalog model over HTTP, against a local server: checksums, cut-offs, resume, cancel, full disk."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections import namedtuple

import pytest

from callcue.errors import CallcueError
from callcue.speech import download as dl
from callcue.speech import models
from callcue.speech.download import Cancelled

from .conftest import catalog_entry, write_catalog

NAME = "vosk-model-tiny-xx-0.1"


def leftovers(folder):
    """Anything but finished models in a models folder (half-installed or staging folders)."""
    if not folder.exists():
        return []
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or not models.is_model_dir(p)]


@pytest.fixture
def catalog(tmp_path, http_server, fake_model_zip):
    http_server.files["/m.zip"] = fake_model_zip
    return write_catalog(tmp_path / "catalog.json",
                         [catalog_entry(NAME, http_server.base + "/m.zip", fake_model_zip)])


def test_install_downloads_checks_and_moves_the_model_into_place(catalog, http_server):
    seen = []
    ref = models.install(NAME, catalog=catalog, progress=lambda done, total: seen.append((done, total)))
    assert ref.path == models.user_models_dir() / NAME
    assert models.is_model_dir(ref.path)
    assert leftovers(models.user_models_dir()) == []
    assert not models.part_path_for(NAME).exists()  # the zip is gone once installed
    total = len(http_server.files["/m.zip"])
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert models.find_model(None).name == NAME  # lookup finds it (before any package model)


def test_checksum_mismatch_installs_nothing_and_deletes_the_download(tmp_path, http_server, fake_model_zip):
    http_server.files["/m.zip"] = fake_model_zip
    wrong = "md5:" + hashlib.md5(b"something else").hexdigest()
    cat = write_catalog(tmp_path / "c.json",
                        [catalog_entry(NAME, http_server.base + "/m.zip", fake_model_zip, checksum=wrong)])
    with pytest.raises(CallcueError, match="does not match the catalog's checksum") as err:
        models.install(NAME, catalog=cat)
    assert "nothing was installed" in str(err.value)
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []
    assert not models.part_path_for(NAME).exists()


def test_sha256_checksums_work_too(tmp_path, http_server, fake_model_zip):
    http_server.files["/m.zip"] = fake_model_zip
    good = "sha256:" + hashlib.sha256(fake_model_zip).hexdigest()
    cat = write_catalog(tmp_path / "c.json",
                        [catalog_entry(NAME, http_server.base + "/m.zip", fake_model_zip, checksum=good)])
    assert models.is_model_dir(models.install(NAME, catalog=cat).path)


def test_truncated_download_keeps_the_part_then_resumes_with_a_range_request(catalog, http_server):
    data = http_server.files["/m.zip"]
    http_server.cut_after = len(data) // 3
    with pytest.raises(CallcueError, match="stopped after") as err:
        models.install(NAME, catalog=catalog)
    assert "run the same command again to resume" in str(err.value)
    part = models.part_path_for(NAME)
    assert part.stat().st_size == len(data) // 3
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []

    http_server.cut_after = None
    http_server.body_bytes_sent = 0
    ref = models.install(NAME, catalog=catalog)
    assert models.is_model_dir(ref.path)
    assert http_server.requests[-1] == ("/m.zip", f"bytes={len(data) // 3}-")
    assert http_server.body_bytes_sent == len(data) - len(data) // 3  # only the rest was sent


def test_resume_from_an_existing_part_file(catalog, http_server):
    data = http_server.files["/m.zip"]
    part = models.part_path_for(NAME)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100_000])
    ref = models.install(NAME, catalog=catalog)
    assert models.is_model_dir(ref.path)
    assert http_server.requests == [("/m.zip", "bytes=100000-")]
    assert http_server.body_bytes_sent == len(data) - 100_000


def test_a_server_that_ignores_range_gets_a_fresh_download(catalog, http_server):
    data = http_server.files["/m.zip"]
    http_server.honour_range = False
    part = models.part_path_for(NAME)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5000)  # not even a prefix of the file: only a full restart can fix it
    ref = models.install(NAME, catalog=catalog)
    assert models.is_model_dir(ref.path)
    assert http_server.body_bytes_sent == len(data)


def test_a_complete_part_file_is_not_downloaded_again(catalog, http_server):
    data = http_server.files["/m.zip"]
    part = models.part_path_for(NAME)
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    models.install(NAME, catalog=catalog)
    assert http_server.requests == []


def test_cancel_during_download_leaves_no_model_and_keeps_the_part(catalog, http_server):
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done > 0:
            cancel.set()  # the user pressed Cancel after the first block arrived

    with pytest.raises(Cancelled) as err:
        models.install(NAME, catalog=catalog, progress=progress, cancel=cancel)
    assert err.value.exit_code == 130
    assert "resumes" in str(err.value)
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []
    kept = models.part_path_for(NAME).stat().st_size
    assert 0 < kept < len(http_server.files["/m.zip"])
    assert kept == calls[-1]

    ref = models.install(NAME, catalog=catalog)  # and the next install resumes
    assert models.is_model_dir(ref.path)
    assert http_server.requests[-1] == ("/m.zip", f"bytes={kept}-")


def test_cancel_while_unpacking_leaves_nothing_half_installed(catalog):
    cancel = threading.Event()

    def stage(text):
        if text == "unpacking":
            cancel.set()

    with pytest.raises(Cancelled):
        models.install(NAME, catalog=catalog, cancel=cancel, on_stage=stage)
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []


def test_ctrl_c_while_unpacking_removes_the_staging_folder(catalog, monkeypatch):
    real = models._copy_bytes
    count = {"n": 0}

    def interrupted(src, dst):
        count["n"] += 1
        if count["n"] == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(models, "_copy_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        models.install(NAME, catalog=catalog)
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []


def test_full_disk_during_download_is_a_clear_error(catalog, monkeypatch):
    def full(f, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dl, "_write", full)
    with pytest.raises(CallcueError, match="the disk is full") as err:
        models.install(NAME, catalog=catalog)
    assert "free some space" in str(err.value)
    assert not (models.user_models_dir() / NAME).exists()


def test_full_disk_while_unpacking_is_a_clear_error_and_cleans_up(catalog, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(models, "_copy_bytes", full)
    with pytest.raises(CallcueError, match="the disk is full"):
        models.install(NAME, catalog=catalog)
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []


def test_not_enough_space_is_refused_before_downloading(catalog, monkeypatch, http_server):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(CallcueError, match="not enough disk space"):
        models.install(NAME, catalog=catalog)
    part = models.part_path_for(NAME)
    assert not part.exists() or part.stat().st_size == 0


def test_http_error_names_the_url_and_status(tmp_path, http_server, fake_model_zip):
    cat = write_catalog(tmp_path / "c.json",
                        [catalog_entry(NAME, http_server.base + "/missing.zip", fake_model_zip)])
    with pytest.raises(CallcueError, match="404") as err:
        models.install(NAME, catalog=cat)
    assert "/missing.zip" in str(err.value)


def test_unreachable_server_is_a_clear_error(tmp_path, fake_model_zip):
    cat = write_catalog(tmp_path / "c.json", [catalog_entry(NAME, "http://127.0.0.1:9/m.zip", fake_model_zip)])
    with pytest.raises(CallcueError, match="cannot download"):
        models.install(NAME, catalog=cat)


def test_a_download_that_is_not_a_zip_is_refused(tmp_path, http_server):
    http_server.files["/m.zip"] = b"<html>not a model</html>"
    cat = write_catalog(tmp_path / "c.json", [catalog_entry(NAME, http_server.base + "/m.zip", None)])
    with pytest.raises(CallcueError, match="not a zip"):
        models.install(NAME, catalog=cat)
    assert not (models.user_models_dir() / NAME).exists()
    assert not models.part_path_for(NAME).exists()


def test_already_installed_is_refused(catalog):
    models.install(NAME, catalog=catalog)
    with pytest.raises(CallcueError, match="already installed"):
        models.install(NAME, catalog=catalog)


def test_unknown_name_suggests_close_ones(catalog):
    with pytest.raises(CallcueError, match="did you mean vosk-model-tiny-xx-0.1"):
        models.install("vosk-model-tiny-xx-0.2", catalog=catalog)


def test_catalog_from_the_environment(catalog, monkeypatch):
    monkeypatch.setenv("CALLCUE_MODEL_CATALOG", str(catalog))
    assert models.install(NAME).name == NAME


def test_ctrl_c_during_download_keeps_the_part_and_installs_nothing(catalog):
    def progress(done, total):
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models.install(NAME, catalog=catalog, progress=progress)
    assert models.part_path_for(NAME).stat().st_size > 0
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []


def test_ctrl_c_on_the_command_line(tmp_path, http_server, fake_model_zip):
    """A real SIGINT to `callcue models install` while the server is mid-file."""
    http_server.files["/m.zip"] = fake_model_zip
    http_server.pause_after = 300_000
    c = write_catalog(tmp_path / "c.json", [catalog_entry(NAME, http_server.base + "/m.zip", fake_model_zip)])
    env = dict(os.environ, CALLCUE_MODEL_CATALOG=str(c))
    # A shell's background job inherits SIGINT ignored, and Python then leaves it ignored: a terminal's
    # Ctrl-C always reaches the command, so the test starts it as a terminal would.
    proc = subprocess.Popen([sys.executable, "-m", "callcue", "models", "install", NAME], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert http_server.paused.wait(60), "the client never started the download"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "install interrupted; nothing was installed" in err and "Traceback" not in err
    assert not (models.user_models_dir() / NAME).exists()
    assert leftovers(models.user_models_dir()) == []
    part = models.part_path_for(NAME)
    assert not part.exists() or part.stat().st_size <= 300_000
