"""Transcripts in: WebVTT with voice tags, SRT with speaker prefixes, Vosk result JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from callcue.engine.events import TextSegment, Word
from callcue.errors import CallcueError

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})"
_CUE_TIME = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]+)>\s*(.*?)(?:</v>)?$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(agent|customer|caller|client|rep|representative)\s*:\s*(.*)$", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_ALIASES = {"caller": "customer", "client": "customer", "rep": "agent", "representative": "agent"}


def _who(name: str, path: Path, line: int) -> str:
    who = name.strip().lower()
    who = _ALIASES.get(who, who)
    if who not in ("agent", "customer"):
        raise CallcueError(f"{path}:{line}: unknown speaker {name.strip()!r}; "
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
                               "'00:00:01.000 --> 00:00:02.500'; is this a {kind.upper()} file?")
        m = _CUE_TIME.match(lines[idx])
        if not m:
            raise CallcueError(f"{path}:{first + idx}: cannot read the cue times in {lines[idx]!r}")
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


def _parse_vosk(text: str, path: Path) -> list[TextSegment]:
    """Vosk results: one JSON object or a list of them, or JSON Lines.

    Each result may carry `who`/`speaker`/`channel`; without it, all are the agent's... which would
    be a guess, so it is refused.
    """
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise CallcueError(f"{path}:{n}: not JSON ({err.msg}); expected Vosk results, "
                                   "one JSON object per line") from None
    if isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict) and "results" in items[0]:
        items = items[0]["results"]
    segments = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise CallcueError(f"{path}: result {n} is not a JSON object with 'result' and 'text'")
        words_raw = item.get("result") or []
        if not words_raw and not item.get("text"):
            continue
        speaker = item.get("who") or item.get("speaker") or item.get("channel")
        if speaker is None:
            raise CallcueError(f"{path}: result {n} does not say who speaks; add \"who\": \"agent\" or "
                               "\"customer\" to each result")
        who = _who(str(speaker), path, n)
        try:
            words = [Word(word=str(w["word"]), start=float(w["start"]), end=float(w["end"]),
                          conf=float(w.get("conf", 1.0))) for w in words_raw]
        except (KeyError, TypeError, ValueError):
            raise CallcueError(f"{path}: result {n}: each word needs 'word', 'start' and 'end'") from None
        text_ = item.get("text") or " ".join(w.word for w in words)
        if words:
            start, end = words[0].start, words[-1].end
        elif "start" in item and "end" in item:
            start, end = float(item["start"]), float(item["end"])
            words = spread_words(text_, start, end)
        else:
            raise CallcueError(f"{path}: result {n} has no word times and no 'start'/'end'")
        segments.append(TextSegment(who=who, start=start, end=end, text=text_, words=words))
    return segments


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
        segments = _parse_timed(text, p, "vtt")
    elif stripped[0] in "[{":
        segments = _parse_vosk(text, p)
    elif p.suffix.lower() == ".srt" or re.match(r"^\d+\s*$", stripped.splitlines()[0]):
        segments = _parse_timed(text, p, "srt")
    else:
        raise CallcueError(f"{p}:1: not a transcript Callcue reads; give WebVTT (starts with WEBVTT), "
                           "SRT with 'Agent:'/'Customer:' prefixes, or Vosk result JSON")
    return sorted(segments, key=lambda s: (s.end, s.start))
