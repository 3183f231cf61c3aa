"""Chat transcripts from files: JSON Lines, CSV and plain `Agent: ...` / `Customer: ...` text.

Every message gets a time in seconds from the chat's first message, on the chat's own
clock (its timestamps), never the reader's. Bad input raises CallcueError naming the
file, the line and what to do.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from callcue.errors import CallcueError

SPEAKERS = ("agent", "customer")
MAX_FILE_BYTES = 50 * 1024 * 1024  # a chat is text: anything bigger is not a chat transcript
MAX_TEXT_CHARS = 20_000


@dataclass
class ChatMessage:
    who: str  # "agent" or "customer"
    text: str
    t: float | None  # seconds from the chat's first message; None when the source has no times
    line: int = 0  # where it came from, for messages about it


def speaker(value: object, where: str) -> str:
    who = str(value).strip().lower() if value is not None else ""
    if who not in SPEAKERS:
        shown = "nothing" if not who else repr(str(value).strip())
        raise CallcueError(f"{where}: unknown speaker {shown}; a message is from \"agent\" or \"customer\"")
    return who


def parse_time(value: object, where: str) -> float | datetime | None:
    """Seconds (a number, or text of one), an ISO date-time, or a clock time hh:mm[:ss]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CallcueError(f"{where}: time {value!r} is not seconds or an ISO time")
    if isinstance(value, (int, float)):
        if value != value or value < 0 or value in (float("inf"),):
            raise CallcueError(f"{where}: time {value!r} must be seconds from the start (0 or more)")
        return float(value)
    if not isinstance(value, str):
        raise CallcueError(f"{where}: time {value!r} is not seconds or an ISO time")
    s = value.strip()
    try:
        secs = float(s)
    except ValueError:
        pass
    else:
        return parse_time(secs, where)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?", s)
    if m:
        h, mi, sec, frac = m.groups()
        return int(h) * 3600 + int(mi) * 60 + int(sec or 0) + (float("0." + frac) if frac else 0.0)
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise CallcueError(f"{where}: time {value!r} is not seconds, hh:mm:ss or an ISO time "
                           "like 2024-05-01T10:15:00") from None


def _relative(raw: list[tuple[float | datetime | None, str]], source: str) -> list[float | None]:
    """Times as seconds from the first timed message; a clock time that wraps past midnight goes on."""
    out: list[float | None] = []
    first: float | datetime | None = None
    day = 0.0
    last: float | None = None
    for value, where in raw:
        if value is None:
            out.append(None)
            continue
        if first is None:
            first = value
        if isinstance(value, datetime) != isinstance(first, datetime):
            raise CallcueError(f"{where}: mixes an ISO date-time with seconds or a clock time; "
                               f"use one kind of time throughout {source}")
        if isinstance(value, datetime):
            assert isinstance(first, datetime)
            if (value.tzinfo is None) != (first.tzinfo is None):
                raise CallcueError(f"{where}: mixes times with and without a time zone; use one kind")
            t = (value - first) / timedelta(seconds=1)
        else:
            assert not isinstance(first, datetime)
            t = value - first + day
            if last is not None and t < last - 12 * 3600:  # a clock time past midnight
                day += 24 * 3600
                t += 24 * 3600
        if last is not None and t < last - 1e-9:
            raise CallcueError(f"{where}: time goes backwards ({t:.0f} s after the start, the message "
                               f"before was at {last:.0f} s); put the messages in time order")
        last = t
        out.append(round(t, 3))
    return out


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CallcueError(f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x}); save the chat as "
                           "UTF-8 and try again") from None


def _read_jsonl(text: str, path: Path) -> list[tuple[str, str, object, int]]:
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise CallcueError(f"{where}: malformed JSON ({err.msg}); each line must be one object like "
                               '{"t": 12.5, "who": "customer", "text": "..."}') from None
        if not isinstance(obj, dict):
            raise CallcueError(f"{where}: expected a JSON object with \"who\" and \"text\", got "
                               f"{type(obj).__name__}")
        if "text" not in obj:
            raise CallcueError(f"{where}: missing \"text\"; each message needs \"who\" and \"text\"")
        if not isinstance(obj["text"], str):
            raise CallcueError(f"{where}: \"text\" must be a string")
        rows.append((speaker(obj.get("who"), where), obj["text"], obj.get("t"), n))
    return rows


def _read_csv(text: str, path: Path) -> list[tuple[str, str, object, int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as err:
        raise CallcueError(f"{path}:1: malformed CSV ({err})") from None
    cols = [h.strip().lower() for h in header]
    missing = [c for c in ("who", "text") if c not in cols]
    if missing:
        raise CallcueError(f"{path}:1: the CSV header needs columns t, who and text; missing "
                           f"{', '.join(missing)} (found: {', '.join(cols) or 'nothing'})")
    i_who, i_text = cols.index("who"), cols.index("text")
    i_t = cols.index("t") if "t" in cols else None
    rows = []
    try:
        for rec in reader:
            n = reader.line_num
            if not any(f.strip() for f in rec):
                continue
            where = f"{path}:{n}"
            if len(rec) != len(cols):
                raise CallcueError(f"{where}: {len(rec)} fields where the header has {len(cols)}; quote text "
                                   'that contains commas ("like, this")')
            rows.append((speaker(rec[i_who], where), rec[i_text], rec[i_t] if i_t is not None else None, n))
    except csv.Error as err:
        raise CallcueError(f"{path}:{reader.line_num}: malformed CSV ({err})") from None
    return rows


_STAMPED = re.compile(r"^\s*\[(?P<t>[^\]]*)\]\s*(?P<who>[^:\[\]]{1,40}?)\s*:(?:\s+|$)(?P<text>.*)$")
_NAMED = re.compile(r"^\s*(?P<who>[A-Za-z][\w'-]{0,30})\s*:(?:\s+|$)(?P<text>.*)$")


def _read_plain(text: str, path: Path) -> list[tuple[str, str, object, int]]:
    rows: list[tuple[str, str, object, int]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _STAMPED.match(line) or _NAMED.match(line)
        if m is None:
            if re.match(r"^\s*\[", line):
                raise CallcueError(f"{path}:{n}: expected \"[hh:mm:ss] Agent: ...\" or \"[hh:mm:ss] Customer: "
                                   "...\"")
            if not rows:
                raise CallcueError(f"{path}:{n}: expected \"Agent: ...\" or \"Customer: ...\", optionally "
                                   "after a time like [00:01:15]")
            # a line with no "Speaker:" continues the message above it
            who, body, t, first = rows[-1]
            rows[-1] = (who, body + "\n" + line.strip(), t, first)
            continue
        t = m.groupdict().get("t")
        rows.append((speaker(m.group("who"), f"{path}:{n}"), m.group("text").strip(), t, n))
    return rows


def detect_format(path: Path, text: str) -> str:
    ext = path.suffix.lower()
    if ext in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if ext == ".csv":
        return "csv"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if first.startswith("{"):
        return "jsonl"
    if re.match(r"^\ufeff?\s*\"?(t|who|text)\"?\s*,", first, re.I):
        return "csv"
    return "plain"


def read_chat(path: str | Path, fmt: str | None = None) -> list[ChatMessage]:
    """The messages of a chat file, in order, with times relative to the first message."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CallcueError(f"{p}: {size / 1e6:.0f} MB is too large for a chat transcript "
                               f"(at most {MAX_FILE_BYTES // 1_000_000} MB)")
        data = p.read_bytes()
    except FileNotFoundError:
        raise CallcueError(f"{p}: no such file; check the path") from None
    except IsADirectoryError:
        raise CallcueError(f"{p}: is a folder; give a chat file (.jsonl, .csv or .txt)") from None
    except PermissionError:
        raise CallcueError(f"{p}: permission denied; check that you can read the file") from None
    text = _decode(data, p)
    if "\x00" in text:
        raise CallcueError(f"{p}: looks like a binary file, not a chat transcript")
    kind = fmt or detect_format(p, text)
    reader = {"jsonl": _read_jsonl, "csv": _read_csv, "plain": _read_plain}.get(kind)
    if reader is None:
        raise CallcueError(f"unknown chat format {kind!r}; use jsonl, csv or plain")
    rows = reader(text, p)
    rows = [r for r in rows if r[1].strip()]
    if not rows:
        raise CallcueError(f"{p}: no messages; a chat needs at least one line from the agent or the customer")
    for _who, body, _t, n in rows:
        if len(body) > MAX_TEXT_CHARS:
            raise CallcueError(f"{p}:{n}: a message of {len(body)} characters is too long "
                               f"(at most {MAX_TEXT_CHARS})")
    times = _relative([(parse_time(t, f"{p}:{n}"), f"{p}:{n}") for _w, _b, t, n in rows], str(p))
    return [ChatMessage(who=who, text=body.strip(), t=t, line=n)
            for (who, body, _t, n), t in zip(rows, times, strict=True)]


def fill_times(messages: list[ChatMessage], untimed_gap_s: float = 20.0) -> tuple[list[float], bool]:
    """Times for every message, and whether the source had any.

    An untimed message shares the time of the message before it. A chat with no times at
    all gets its messages `untimed_gap_s` apart, so cues still take turns; its waiting
    cannot be measured (the engine is told so).
    """
    if all(m.t is None for m in messages):
        return [round(i * untimed_gap_s, 3) for i in range(len(messages))], False
    out: list[float] = []
    last = 0.0
    for m in messages:
        if m.t is not None:
            last = m.t
        out.append(last)
    return out, True
