"""`callcue analyze CALL|DIR --save`: analyse recordings, each saved as a session during its analysis.

Not a subcommand of its own: `analyze --save` calls `save_recordings`. A folder is searched
(recursively) for recordings; each one's transcript is the file beside it with the same name and
.vtt, .srt or .json. Progress goes to stderr: a bar on a terminal, a line per recording otherwise.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from callcue.errors import CallcueError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
TRANSCRIPT_SUFFIXES = (".vtt", ".srt", ".json")


def find_recordings(folder: Path) -> list[tuple[Path, Path | None]]:
    """Recordings under `folder` (hidden folders skipped), each with its transcript if one is beside it."""
    found: list[tuple[Path, Path | None]] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        transcript = next((path.with_suffix(s) for s in TRANSCRIPT_SUFFIXES if path.with_suffix(s).is_file()), None)
        found.append((path, transcript))
    return found


class Progress:
    """A progress bar on a terminal; elsewhere (logs, pipes) one line per recording."""

    WIDTH = 28

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown = -1
        self._name = ""

    def update(self, index: int, fraction: float, name: str) -> None:
        if not self.tty:
            return
        done = (index + max(0.0, min(1.0, fraction))) / max(1, self.total)
        percent = int(done * 100)
        if percent == self._shown and name == self._name:
            return
        self._shown, self._name = percent, name
        filled = int(done * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {percent:3d}%  {index + 1}/{self.total}  {name[:40]:<40}")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty and self._shown >= 0:
            self.stream.write("\r" + " " * (self.WIDTH + 60) + "\r")
            self._shown = -1
        self.stream.write(text + "\n")
        self.stream.flush()


def _started_at(path: Path) -> datetime:
    """When the call was recorded, as well as a file can tell: its modification time."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def save_recordings(args: argparse.Namespace) -> int:
    from callcue.calls.offline import analyze_recording
    from callcue.engine.events import CallStart
    from callcue.sessions_io import Recorder, SaveError, open_store
    from callcue.store import SessionMeta

    target = Path(args.call)
    if target.is_dir():
        if args.transcript:
            raise CallcueError(f"--transcript names one file, but {target} is a folder; put each transcript "
                               "beside its recording with the same name (call.wav, call.vtt).")
        items = find_recordings(target)
        if not items:
            raise CallcueError(f"No recordings ({', '.join(AUDIO_SUFFIXES)}) in the folder {target}; "
                               "check the path.")
    else:
        items = [(target, Path(args.transcript) if args.transcript else None)]
    folder = target.is_dir()

    progress = Progress(len(items))
    try:
        store, recovered = open_store()
    except CallcueError as err:
        if folder:
            raise
        # One recording: what it says is still shown, then why it was not saved.
        return _analyse_unsaved(args, items[0], err)
    for session in recovered:
        progress.line(f"callcue: recovered the unfinished session {session.id} ({session.source or session.kind}, "
                      f"{session.duration_s or 0:.0f} s saved)")
    failed = 0
    try:
        for index, (path, transcript) in enumerate(items):
            name = str(path.relative_to(target)) if folder else path.name
            duration = [0.0]

            def committed(t: float, name: str = name) -> None:
                if args.verbose:
                    progress.line(f"saved {t:.1f} s of {name}")

            failures: list[CallcueError] = []
            recorder = Recorder(store, SessionMeta(
                kind="analyze", agent=args.agent, profile=args.profile or "default",
                started_at=_started_at(path) if path.exists() else None, source=str(path.resolve()),
                model=getattr(args, "model", None),
            ), on_commit=committed, on_error=None if folder else failures.append)

            def on_event(event, recorder: Recorder = recorder, duration: list[float] = duration) -> None:
                if isinstance(event, CallStart) and event.duration_s:
                    duration[0] = event.duration_s
                recorder.write(event)

            def on_chunk(t: float, recorder: Recorder = recorder, duration: list[float] = duration,
                         index: int = index, name: str = name) -> None:
                recorder.advance(t)
                progress.update(index, t / duration[0] if duration[0] else 0.0, name)

            progress.update(index, 0.0, name)
            try:
                events = analyze_recording(str(path), str(transcript) if transcript else None, args.playbook,
                                           args.profile, args.channels, on_event=on_event, on_chunk=on_chunk,
                                           model=getattr(args, "model", None), warn=progress.line)
            except SaveError:
                raise
            except CallcueError as err:
                if not folder:
                    raise
                failed += 1
                progress.line(f"callcue: skipped {name}: {err}")
                continue
            try:
                sid = recorder.finish()
            except SaveError as err:
                if folder:
                    raise
                # The analysis was done: print it, then say why it was not (all) saved.
                _print_analysis(args, events, sys.stdout)
                sys.stdout.flush()
                raise CallcueError(str(err)) from None
            summary = recorder.summary
            peak = summary.frustration_peak if summary else None
            peak_text = f", peak frustration {peak:.2f}" if peak is not None else ""
            if folder:
                progress.line(f"[{index + 1}/{len(items)}] {name}: saved session {sid} "
                              f"({duration[0]:.0f} s{peak_text})")
                sys.stdout.write(f"{sid}  {name}\n")
            else:
                progress.line(f"callcue: saved session {sid} ({recorder.events} events) in {store.path}")
                _print_analysis(args, events, sys.stdout)
    finally:
        store.close()
    if folder:
        progress.line(f"callcue: {len(items) - failed} of {len(items)} recordings saved to {store.path}"
                      + (f"; {failed} skipped (see above)" if failed else ""))
    return 2 if failed else 0


def _analyse_unsaved(args: argparse.Namespace, item: tuple[Path, Path | None], err: CallcueError) -> int:
    """The sessions database cannot be opened: analyse and print anyway, then say why nothing was saved."""
    from callcue.calls.offline import analyze_recording

    path, transcript = item
    events = analyze_recording(str(path), str(transcript) if transcript else None, args.playbook, args.profile,
                               args.channels, model=getattr(args, "model", None),
                               warn=lambda line: print(line, file=sys.stderr))
    _print_analysis(args, events, sys.stdout)
    sys.stdout.flush()
    raise CallcueError(f"the analysis above was not saved: {err}")


def _print_analysis(args: argparse.Namespace, events: list, out: TextIO) -> None:
    """What `analyze FILE` prints without --save, unchanged."""
    if args.json:
        for event in events:
            out.write(event.to_json() + "\n")
    else:
        from callcue.report.timeline import render_timeline

        out.write(render_timeline(events))

