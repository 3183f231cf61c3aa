"""Fetch one file over HTTP(S), resumably. The only network use in Callcue.

It runs only when the user asks for a model (`callcue models install NAME`).
Bytes go to a `.part` file; an interrupted download resumes from there with an
HTTP Range request. Nothing here unpacks or installs: the caller checks the
checksum of the finished file first.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from callcue import __version__
from callcue.errors import CallcueError

from .catalog import human_size, parse_checksum

CHUNK = 256 * 1024
Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


class Cancelled(CallcueError):
    """The user stopped the install (cancel event or Ctrl-C). Nothing was half-installed."""

    exit_code = 130


def disk_full_error(where: Path, err: OSError | None = None) -> CallcueError:
    try:
        free = human_size(shutil.disk_usage(where if where.is_dir() else where.parent).free)
    except OSError:
        free = "?"
    return CallcueError(f"{where}: the disk is full ({free} free); free some space on that disk, "
                        "or set CALLCUE_DATA_DIR to a folder on a bigger one, and run the command again")


def _write(f, data: bytes) -> None:
    # One place for every write of downloaded bytes, so a full disk is one code path.
    f.write(data)


def file_digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


def check_checksum(path: Path, checksum: str, what: str) -> None:
    algo, expected = parse_checksum(checksum, what)
    actual = file_digest(path, algo)
    if actual != expected:
        raise CallcueError(
            f"{what}: the download does not match the catalog's checksum ({algo} {actual}, expected "
            f"{expected}); it was deleted and nothing was installed. Run the command again to download "
            "it afresh; if it fails again the catalog is out of date or the server sends something else")


def _open(url: str, start: int, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": f"callcue/{__version__}"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - the user asked for this URL


def _total_from(resp, start: int) -> int | None:
    content_range = resp.headers.get("Content-Range", "")
    if "/" in content_range:
        tail = content_range.rsplit("/", 1)[1].strip()
        if tail.isdigit():
            return int(tail)
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + start
    return None


def download(url: str, part: Path, *, size: int | None = None, progress: Progress | None = None,
             cancel: threading.Event | None = None, timeout: float = 30.0) -> Path:
    """Download `url` into `part` (a `.part` file), resuming what is already there.

    Returns `part` once it holds the whole file. Interrupted (network error, cut-off
    body, cancel, Ctrl-C) it keeps what arrived, so the next call resumes.
    `size` is the expected size from the catalog, used when the server gives none.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    start = part.stat().st_size if part.exists() else 0
    if size is not None and start > size:
        part.unlink()  # longer than the real file: it is not a prefix of it
        start = 0
    if size is not None and start == size:
        return part  # finished earlier; the caller's checksum decides if it is right

    try:
        resp = _open(url, start, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:
            # Range beyond the end: what we have is already the whole file (or junk);
            # let the checksum judge it.
            return part
        raise CallcueError(f"{url}: the server answered {err.code} {err.reason}; check the URL "
                           "in the catalog, or try again later") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise CallcueError(f"{url}: cannot download ({reason}); check the network connection, "
                           "then run the command again (it resumes)") from None

    with resp:
        status = getattr(resp, "status", 200)
        if start and status != 206:
            start = 0  # the server ignored Range and sends it all: begin again
        total = _total_from(resp, start) or size
        if total is not None and start == 0:
            _check_free_space(part, total)
        done = start
        try:
            with open(part, "ab" if start else "wb") as f:
                if progress:
                    progress(done, total)
                while True:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled(f"download cancelled; the {human_size(done)} received are kept in "
                                        f"{part} and the next install resumes from there")
                    try:
                        block = resp.read(CHUNK)
                    except (OSError, http.client.HTTPException) as err:
                        # A dropped connection mid-body: a socket error or IncompleteRead.
                        raise _cut_off(url, part, done, total, err) from None
                    if not block:
                        break
                    try:
                        _write(f, block)
                    except OSError as err:
                        if err.errno == errno.ENOSPC:
                            raise disk_full_error(part, err) from None
                        raise CallcueError(f"{part}: cannot write the download ({err.strerror})") from None
                    done += len(block)
                    if progress:
                        progress(done, total)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise disk_full_error(part, err) from None
            raise CallcueError(f"{part}: cannot write the download ({err.strerror})") from None
    if total is not None and done < total:
        raise _cut_off(url, part, done, total, None)
    return part


def _cut_off(url: str, part: Path, done: int, total: int | None, err: object) -> CallcueError:
    of = f" of {human_size(total)}" if total else ""
    why = f" ({err})" if err else ""
    return CallcueError(f"{url}: the download stopped after {human_size(done)}{of}{why}; what arrived is "
                        f"kept in {part}: run the same command again to resume")


def _check_free_space(part: Path, total: int) -> None:
    try:
        free = shutil.disk_usage(part.parent).free
    except OSError:
        return
    if free < total:
        raise CallcueError(f"{part.parent}: not enough disk space for the download ({human_size(total)} "
                           f"needed, {human_size(free)} free); free some space or set CALLCUE_DATA_DIR "
                           "to a folder on a bigger disk")


def remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
