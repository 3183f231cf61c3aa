"""Transcripts in: WebVTT with voice tags, SRT with speaker prefixes, Vosk result JSON."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from callcue.engine.events import TextSegment, Word
from callcue.errors import CallcueError

_TIME = r"(?:(\d{1,6}):)?(\d{1,2}):(\d{2})[.,](\d{3})"  # hours: up to 6 digits (114 years)
_CUE_TIME = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]+)>\s*(.*?)(?:</v>)?$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(agent|customer|caller|client|rep|representative)\s*:\s*(.*)$", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
NAMES = {"vtt": "WebVTT", "srt": "SRT", "json": "Vosk JSON"}
_EXAMPLE = {"vtt": "00:00:01.000 --> 00:00:02.500", "srt": "00:00:01,000 --> 00:00:02,500"}
_ALIASES = {"caller": "customer", "client": "customer", "rep": "agent", "representative": "agent"}


def _clip(text: str, most: int = 60) -> str:
    """Text quoted for a message, cut short: a message is one line of reasonable length."""
    return repr(text if len(text) <= most else text[:most - 3] + "...")


def _a(kind: str) -> str:
    """'a WebVTT', 'an SRT'."""
    return ("an " if kind == "srt" else "a ") + NAMES[kind]


def _who(name: str, path: Path, line: int) -> str:
    who = name.strip().lower()
    who = _ALIASES.get(who, who)
    if who not in ("agent", "customer"):
        raise CallcueError(f"{path}:{line}: unknown speaker {_clip(name.strip())}; "
                           "use 'agent' or 'customer'")
    return who


def _seconds(groups: tuple[str | None, ...]) -> float:
    h, m, s, ms = groups
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000.0  # type: ignore[arg-type]


def spread_words(text: str, start: float, end: float) -> list[Word]:
    """Word times for a cue that has none: shared out by word length over the cue's span."""
    tokens = text.split()
    if not tokens:
        return []
    weights = [len(t) + 1 for t in tokens]
    total = float(sum(weights))
    words, t = [], start
    for tok, w in zip(tokens, weights, strict=True):
        d = (end - start) * w / total
        words.append(Word(word=tok, start=round(t, 3), end=round(t + d, 3), conf=1.0))
        t += d
    return words


def _cue_blocks(text: str) -> list[tuple[int, list[str]]]:
    blocks, cur, first = [], [], 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not cur:
                first = n
            cur.append(line.rstrip())
        elif cur:
            blocks.append((first, cur))
            cur = []
    if cur:
        blocks.append((first, cur))
    return blocks


def _parse_timed(text: str, path: Path, kind: str) -> list[TextSegment]:
    segments = []
    for first, lines in _cue_blocks(text):
        idx = next((i for i, ln in enumerate(lines) if "-->" in ln), None)
        if idx is None:
            if kind == "vtt" and (lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION"))):
                continue
            if kind == "srt" and len(lines) == 1 and lines[0].strip().isdigit():
                continue
            raise CallcueError(f"{path}:{first}: expected a cue time line like "
                               f"'{_EXAMPLE[kind]}'; is this {_a(kind)} file?")
        m = _CUE_TIME.match(lines[idx])
        if not m:
            raise CallcueError(f"{path}:{first + idx}: cannot read the cue times in {_clip(lines[idx])}; "
                               f"write them like '{_EXAMPLE[kind]}'")
        start, end = _seconds(m.groups()[:4]), _seconds(m.groups()[4:])
        if end < start:
            raise CallcueError(f"{path}:{first + idx}: the cue ends before it starts")
        who, parts = None, []
        for off, ln in enumerate(lines[idx + 1:], idx + 1):
            vm = _VOICE.match(ln.strip()) if kind == "vtt" else None
            pm = _PREFIX.match(ln) if vm is None else None
            if vm:
                who = _who(vm.group(1), path, first + off)
                ln = vm.group(2)
            elif pm and who is None:
                who = _who(pm.group(1), path, first + off)
                ln = pm.group(2)
            parts.append(_TAG.sub("", ln).strip())
        body = " ".join(p for p in parts if p)
        if who is None:
            raise CallcueError(f"{path}:{first}: the cue does not say who speaks; start its text with "
                               "<v agent> or <v customer> (WebVTT) or 'Agent:' / 'Customer:' (SRT)")
        segments.append(TextSegment(who=who, start=round(start, 3), end=round(end, 3), text=body,
                                    words=spread_words(body, start, end)))
    return segments


VOSK_SHAPE = ("Vosk results: JSON objects (a list of them, {\"results\": [...]}, or one per line) with "
              "\"who\" and either \"result\" (words with \"word\", \"start\", \"end\") or \"text\" with "
              "\"start\" and \"end\"")


# A result has one of these; an object with none of them is some other JSON (a script, a chat).
_RESULT_KEYS = {"result", "text", "partial", "who", "speaker", "channel", "start", "end"}


def _load_json(text: str, path: Path) -> list[Any]:
    """The results of one JSON document, or of JSON Lines (one result per line)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            items.append(_json_value(line, f"{path}:{n}", "one JSON object per line"))
        return items
    except (ValueError, RecursionError) as err:  # a number too long to read, nesting too deep
        raise CallcueError(f"{path}: cannot read the JSON ({_why(err)}); expected {VOSK_SHAPE}") from None
    if isinstance(data, dict) and "results" in data:
        data = data["results"]
        if not isinstance(data, list):
            raise CallcueError(f"{path}: \"results\" must be a list of Vosk results, not {_kind(data)}")
        return data
    return data if isinstance(data, list) else [data]


def _json_value(line: str, where: str, expected: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise CallcueError(f"{where}: not JSON ({err.msg}); expected Vosk results, {expected}") from None
    except (ValueError, RecursionError) as err:
        raise CallcueError(f"{where}: cannot read the JSON ({_why(err)}); expected Vosk results, "
                           f"{expected}") from None


def _why(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _number(value: float) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _time(value: Any, what: str, where: str) -> float:
    """A time in seconds from the start of the call: a finite number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CallcueError(f"{where}: {what} must be a number of seconds, not {_kind(value)}")
    try:
        t = float(value)
    except OverflowError:  # an integer of hundreds of digits
        t = math.inf
    if not math.isfinite(t) or t < 0:
        raise CallcueError(f"{where}: {what} must be seconds from the start of the call (0 or more), "
                           f"not {_number(value)}")
    return t


def _parse_vosk(text: str, path: Path) -> list[TextSegment]:
    """Vosk results: one JSON object or a list of them, or JSON Lines.

    Each result may carry `who`/`speaker`/`channel`; without it, all are the agent's... which would
    be a guess, so it is refused.
    """
    segments = []
    for n, item in enumerate(_load_json(text, path), 1):
        where = f"{path}: result {n}"
        if not isinstance(item, dict):
            raise CallcueError(f"{where} is {_kind(item)}, not a JSON object with \"result\" or \"text\"")
        if not _RESULT_KEYS & set(item):
            keys = ", ".join(json.dumps(k, ensure_ascii=False) for k in list(item)[:5]) or "no keys"
            raise CallcueError(f"{where} is not a Vosk result (it has {keys}); expected {VOSK_SHAPE}")
        words_raw = item.get("result") or []
        text_ = item.get("text")
        if not isinstance(words_raw, list):
            raise CallcueError(f"{where}: \"result\" must be a list of words, not {_kind(words_raw)}")
        if text_ is not None and not isinstance(text_, str):
            raise CallcueError(f"{where}: \"text\" must be text, not {_kind(text_)}")
        if not words_raw and not text_:
            continue  # a silence, or a partial result: Vosk writes them too
        speaker = item.get("who") or item.get("speaker") or item.get("channel")
        if speaker is None:
            raise CallcueError(f"{where} does not say who speaks; add \"who\": \"agent\" or "
                               "\"customer\" to each result")
        if not isinstance(speaker, (str, int)) or isinstance(speaker, bool):
            raise CallcueError(f"{where}: \"who\" must be \"agent\" or \"customer\", not {_kind(speaker)}")
        who = _who(str(speaker), path, n)
        words = [_word(w, f"{where}, word {i}") for i, w in enumerate(words_raw, 1)]
        text_ = text_ or " ".join(w.word for w in words)
        if words:
            start, end = words[0].start, words[-1].end
        elif "start" in item and "end" in item:
            start, end = _time(item["start"], "\"start\"", where), _time(item["end"], "\"end\"", where)
            words = spread_words(text_, start, end)
        else:
            raise CallcueError(f"{where} has no word times and no \"start\"/\"end\"; give either")
        if end < start:
            raise CallcueError(f"{where} ends ({end:g} s) before it starts ({start:g} s)")
        segments.append(TextSegment(who=who, start=start, end=end, text=text_, words=words))
    return segments


def _word(w: Any, where: str) -> Word:
    if not isinstance(w, dict) or not all(k in w for k in ("word", "start", "end")):
        raise CallcueError(f"{where}: each word needs \"word\", \"start\" and \"end\"; got {_kind(w)}"
                           + (f" with {', '.join(map(repr, w))}" if isinstance(w, dict) and w else ""))
    if not isinstance(w["word"], (str, int, float)) or isinstance(w["word"], bool):
        raise CallcueError(f"{where}: \"word\" must be text, not {_kind(w['word'])}")
    start, end = _time(w["start"], "\"start\"", where), _time(w["end"], "\"end\"", where)
    if end < start:
        raise CallcueError(f"{where} ends ({end:g} s) before it starts ({start:g} s)")
    conf = w.get("conf", 1.0)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)):
        raise CallcueError(f"{where}: \"conf\" must be a number from 0 to 1, not {_kind(conf)}")
    if not 0 <= conf <= 1:  # nan too
        raise CallcueError(f"{where}: \"conf\" must be a number from 0 to 1, not {_number(conf)}")
    return Word(word=str(w["word"]), start=start, end=end, conf=float(conf))


EXPECTED = {
    "vtt": "WebVTT cues: a time line like '00:00:01.000 --> 00:00:02.500' and a line '<v agent> ...' or "
           "'<v customer> ...'",
    "srt": "SRT cues: a number, a time line like '00:00:01,000 --> 00:00:02,500' and a line "
           "'Agent: ...' or 'Customer: ...'",
    "json": VOSK_SHAPE,
}


def past_the_end(segments: list[TextSegment], duration_s: float, path: str | Path) -> str | None:
    """The warning for a transcript whose lines end after its recording does (None when none does).

    Such lines are still used, but no voice is under them: usually the transcript of another call,
    or a recording cut short. Times are compared to the millisecond, a transcript's resolution.
    """
    late = [s for s in segments if s.end > duration_s + 0.001]
    if not late:
        return None
    last = max(s.end for s in late)
    return (f"{path}: the transcript runs to {last:.3f} s but the recording ends at {duration_s:.3f} s; "
            f"{len(late)} of its {len(segments)} lines end after the audio (no voice is measured for them); "
            "check that the transcript belongs to this recording")


def read_transcript(path: str | Path) -> list[TextSegment]:
    p = Path(path)
    if not p.is_file():
        raise CallcueError(f"{p}: no such transcript file; check the path")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise CallcueError(f"{p}: not UTF-8 text (byte {err.start}); save the transcript as UTF-8") from None
    stripped = text.lstrip()
    if not stripped:
        raise CallcueError(f"{p}: the transcript is empty")
    if stripped.startswith("WEBVTT"):
        kind = "vtt"
        segments = _parse_timed(text, p, kind)
    elif stripped[0] in "[{" or p.suffix.lower() == ".json":
        kind = "json"
        segments = _parse_vosk(text, p)
    elif p.suffix.lower() == ".srt" or re.match(r"^\d+\s*$", stripped.splitlines()[0]):
        kind = "srt"
        segments = _parse_timed(text, p, kind)
    else:
        raise CallcueError(f"{p}:1: not a transcript Callcue reads; give WebVTT (starts with WEBVTT), "
                           "SRT with 'Agent:'/'Customer:' prefixes, or Vosk result JSON")
    if not segments:
        raise CallcueError(f"{p}: {_a(kind)} file with no lines of speech; expected {EXPECTED[kind]}")
    return sorted(segments, key=lambda s: (s.end, s.start))
