"""The settings dialog: devices with live level meters, model, playbook and profile, panel, hotkeys.

It edits the injected `Settings` only when the user presses OK, through `Settings.set`, so a key
that a managed layer locked stays as it is (its control is greyed out and says why).
"""

from __future__ import annotations

import math
import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from callcue.settings import OPACITY_RANGE, WIDTH_RANGE, Settings, SettingsStore
from callcue.ui.hotkeys import ACTION_LABELS
from callcue.ui.qtcompat import emit

DEFAULT_DEVICE = "System default"
NO_MODEL = "None: voice only (no words)"
LOCKED_TIP = "Set by your organisation's managed settings; it cannot be changed here."
PAGES = {"devices": 0, "model": 1, "panel": 2, "hotkeys": 3}


def input_devices() -> tuple[list[str], str | None]:
    """The names of the input devices (and of PulseAudio/PipeWire sources), or why there are none."""
    from callcue.audio.devices import input_names

    return input_names()


class LevelMeter(QObject):
    """A live level of one input device while the dialog is open; PortAudio's thread writes, a timer reads."""

    def __init__(self, bar: QProgressBar, note: QLabel) -> None:
        super().__init__(bar)
        self.bar, self.note = bar, note
        self.stream: Any = None
        self.peak_db = -90.0
        self.timer = QTimer(self)
        self.timer.setInterval(60)
        self.timer.timeout.connect(self._show)

    def listen(self, device: str | None) -> None:
        self.stop()
        try:
            import numpy as np

            from callcue.audio.devices import open_named

            def callback(indata, _frames, _time, _status) -> None:  # type: ignore[no-untyped-def]
                peak = float(np.max(np.abs(indata))) if len(indata) else 0.0
                self.peak_db = 20 * math.log10(max(peak, 1e-5))

            self.stream = open_named(device, channels=1, dtype="float32", callback=callback, latency="low")
            self.stream.start()
            self.note.setText("")
            self.timer.start()
        except Exception as err:
            self.stream = None
            self.bar.setValue(0)
            self.note.setText(f"cannot open this device: {err}")

    def _show(self) -> None:
        self.bar.setValue(int(max(0.0, self.peak_db + 60)))
        self.peak_db = max(-90.0, self.peak_db - 3)  # fall back slowly between callbacks

    def stop(self) -> None:
        self.timer.stop()
        if self.stream is not None:
            try:
                self.stream.stop()
                self.stream.close()
            except Exception:
                pass
            self.stream = None


class _Installer(QObject):
    """Installs a speech model in a thread; progress and the result come back as signals."""

    progress = Signal(int, int)
    finished = Signal(str, str)  # installed name (or ""), error message (or "")

    def __init__(self) -> None:
        super().__init__()
        self.cancel = threading.Event()

    def run(self, name: str | None = None, source: str | None = None) -> None:
        def work() -> None:
            from callcue.errors import CallcueError
            from callcue.speech import models

            try:
                if source:
                    ref = models.install_from(source, cancel=self.cancel)
                else:
                    ref = models.install(name or models.SMALLEST, cancel=self.cancel,
                                         progress=lambda done, total: emit(self.progress, done, total or 0))
                emit(self.finished, ref.name, "")
            except CallcueError as err:
                emit(self.finished, "", str(err))
            except Exception as err:
                emit(self.finished, "", f"the install failed: {err!r}")

        threading.Thread(target=work, name="callcue-model-install", daemon=True).start()


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, settings: Settings, store: SettingsStore | None = None, parent: QWidget | None = None,
                 hotkey_note: str | None = None, meters: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Callcue settings")
        self.settings, self.store = settings, store
        self.meters_on = meters
        self.tabs = QTabWidget()
        self.tabs.addTab(self._audio_page(), "Audio")
        self.tabs.addTab(self._speech_page(), "Speech")
        self.tabs.addTab(self._panel_page(), "Panel")
        self.tabs.addTab(self._hotkeys_page(hotkey_note), "Hotkeys")
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self._lock_controls()
        self.resize(520, 460)

    def open_page(self, page: str) -> None:
        self.tabs.setCurrentIndex(PAGES.get(page, 0))

    # ---- pages -----------------------------------------------------------------------------

    def _audio_page(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.devices_note = QLabel()
        self.devices_note.setWordWrap(True)
        self.agent_device = QComboBox()
        self.customer_device = QComboBox()
        self.agent_level, self.customer_level = QProgressBar(), QProgressBar()
        self.agent_level_note, self.customer_level_note = QLabel(), QLabel()
        for bar in (self.agent_level, self.customer_level):
            bar.setRange(0, 60)
            bar.setTextVisible(False)
            bar.setMaximumHeight(10)
        refresh = QPushButton("Refresh the list")
        refresh.clicked.connect(self.fill_devices)
        form.addRow(self.devices_note)
        form.addRow("Your microphone", self.agent_device)
        form.addRow("", self._stack(self.agent_level, self.agent_level_note))
        form.addRow("Customer audio", self.customer_device)
        form.addRow("", self._stack(self.customer_level, self.customer_level_note))
        form.addRow("", refresh)
        hint = QLabel("The customer's audio is the softphone's output: a loopback or \u201cmonitor\u201d "
                      "source. Speak and watch the bar move to check the right device.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.agent_meter = LevelMeter(self.agent_level, self.agent_level_note)
        self.customer_meter = LevelMeter(self.customer_level, self.customer_level_note)
        self.agent_device.currentTextChanged.connect(lambda t: self._meter(self.agent_meter, t))
        self.customer_device.currentTextChanged.connect(lambda t: self._meter(self.customer_meter, t))
        self.fill_devices()
        return w

    @staticmethod
    def _stack(*widgets: QWidget) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        for x in widgets:
            lay.addWidget(x)
        return box

    def fill_devices(self) -> None:
        names, problem = input_devices()
        self.devices_note.setText(f"<b>No microphone:</b> {problem}" if problem else "")
        self.devices_note.setVisible(bool(problem))
        for combo, chosen in ((self.agent_device, self.settings.agent_device),
                              (self.customer_device, self.settings.customer_device)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(DEFAULT_DEVICE)
            combo.addItems(names)
            if chosen and chosen not in names:
                combo.addItem(f"{chosen} (not connected)", chosen)
            if chosen:
                idx = combo.findText(chosen)
                combo.setCurrentIndex(idx if idx >= 0 else combo.count() - 1)
            combo.blockSignals(False)
        if names:
            self._meter(self.agent_meter, self.agent_device.currentText())
            self._meter(self.customer_meter, self.customer_device.currentText())

    def _meter(self, meter: LevelMeter, text: str) -> None:
        if not self.meters_on:
            return
        meter.listen(None if text == DEFAULT_DEVICE else text.removesuffix(" (not connected)"))

    def _speech_page(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.model = QComboBox()
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.install_button = QPushButton("Download the small English model (40 MB)")
        self.install_button.clicked.connect(lambda: self._install())
        self.install_file_button = QPushButton("Install from a .zip or folder\u2026")
        self.install_file_button.clicked.connect(self._install_file)
        self.install_progress = QProgressBar()
        self.install_progress.hide()
        self.playbook = QLineEdit(self.settings.playbook or "")
        self.playbook.setPlaceholderText("the bundled playbook")
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse_playbook)
        row = QHBoxLayout()
        row.addWidget(self.playbook, 1)
        row.addWidget(browse)
        self.profile = QComboBox()
        self.playbook_note = QLabel()
        self.playbook_note.setWordWrap(True)
        self.playbook.editingFinished.connect(self.fill_profiles)
        form.addRow("Speech model", self.model)
        form.addRow(self.model_note)
        form.addRow("", self.install_button)
        form.addRow("", self.install_file_button)
        form.addRow("", self.install_progress)
        form.addRow("Playbook", row)
        form.addRow("Profile", self.profile)
        form.addRow(self.playbook_note)
        self.fill_models()
        self.fill_profiles()
        return w

    def fill_models(self, select: str | None = None) -> None:
        from callcue.speech.models import all_models, install_hint

        refs = all_models()
        self.model.clear()
        self.model.addItem(NO_MODEL, None)
        for ref in refs:
            self.model.addItem(f"{ref.name}  ({ref.source})", ref.name)
        chosen = select or self.settings.model
        if chosen and self.model.findData(chosen) < 0:
            self.model.addItem(f"{chosen} (not found)", chosen)
        idx = self.model.findData(chosen) if chosen else (1 if refs else 0)
        self.model.setCurrentIndex(max(0, idx))
        if not refs:
            self.model_note.setText("<b>No speech model installed.</b> Cues from the voice (talk-over, "
                                    "silences, pace) still work; words-based cues need a model: "
                                    + install_hint().split(", or `callcue models list`")[0] + ".")
        else:
            self.model_note.setText("The first model found is used unless you choose one.")

    def _install(self, source: str | None = None) -> None:
        self.installer = _Installer()
        self.installer.progress.connect(self._install_progress)
        self.installer.finished.connect(self._installed)
        self.install_button.setEnabled(False)
        self.install_file_button.setEnabled(False)
        self.install_progress.setRange(0, 0)
        self.install_progress.show()
        self.model_note.setText("Installing\u2026")
        self.installer.run(source=source)

    def _install_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A Vosk model .zip", "", "Zip files (*.zip);;All files (*)")
        if path:
            self._install(source=path)

    def _install_progress(self, done: int, total: int) -> None:
        if total:
            self.install_progress.setRange(0, 1000)
            self.install_progress.setValue(int(1000 * done / total))

    def _installed(self, name: str, error: str) -> None:
        self.install_progress.hide()
        self.install_button.setEnabled(True)
        self.install_file_button.setEnabled(True)
        if error:
            self.model_note.setText(f"<b>Not installed:</b> {error}")
        else:
            self.fill_models(select=name)
            self.model_note.setText(f"Installed {name}.")

    def _browse_playbook(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A playbook", "", "Playbooks (*.toml);;All files (*)")
        if path:
            self.playbook.setText(path)
            self.fill_profiles()

    def fill_profiles(self) -> None:
        from callcue.engine.playbook import load_playbook
        from callcue.errors import CallcueError

        self.profile.clear()
        self.profile.addItem("(none)", None)
        try:
            pb = load_playbook(self.playbook.text().strip() or None)
            self.playbook_note.setText("")
            for name in pb.profiles:
                self.profile.addItem(name, name)
        except CallcueError as err:
            self.playbook_note.setText(f"<b>This playbook cannot be used:</b> {err}")
        idx = self.profile.findData(self.settings.profile)
        self.profile.setCurrentIndex(max(0, idx))

    def _panel_page(self) -> QWidget:
        s = self.settings
        w = QWidget()
        form = QFormLayout(w)
        self.edge = QComboBox()
        self.edge.addItems(["right", "left"])
        self.edge.setCurrentText(s.edge)
        self.screen = QComboBox()
        self.screen.addItem("Primary screen", None)
        for scr in QGuiApplication.screens():
            g = scr.geometry()
            self.screen.addItem(f"{scr.name()} ({g.width()}\u00d7{g.height()})", scr.name())
        self.screen.setCurrentIndex(max(0, self.screen.findData(s.screen)))
        self.width_box = QSpinBox()
        self.width_box.setRange(*WIDTH_RANGE)
        self.width_box.setSuffix(" px")
        self.width_box.setValue(s.width)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(int(OPACITY_RANGE[0] * 100), int(OPACITY_RANGE[1] * 100))
        self.opacity.setValue(round(s.opacity * 100))
        self.mode = QComboBox()
        self.mode.addItems(["expanded", "compact"])
        self.mode.setCurrentText(s.mode)
        self.captions = QCheckBox("Show live captions of both sides")
        self.captions.setChecked(s.captions)
        self.click_through = QCheckBox("Click-through: clicks go to the window under the panel")
        self.click_through.setChecked(s.click_through)
        self.on_top = QCheckBox("Keep the panel above other windows")
        self.on_top.setChecked(s.always_on_top)
        self.chat_enabled = QCheckBox("Chat assistance: a chat panel for live chats posted to 127.0.0.1")
        self.chat_enabled.setChecked(s.chat_enabled)
        self.chat_port = QSpinBox()
        self.chat_port.setRange(1023, 65535)  # 1023 stands for "none chosen": the playbook's port
        self.chat_port.setSpecialValueText("the playbook's (chat.port)")
        self.chat_port.setValue(s.chat_port or 1023)
        self.chat_port.setToolTip("Where chat tools post messages: http://127.0.0.1:PORT (docs/chat-api.md)")
        form.addRow("Edge", self.edge)
        form.addRow("Screen", self.screen)
        form.addRow("Width", self.width_box)
        form.addRow("Opacity", self.opacity)
        form.addRow("Panel", self.mode)
        form.addRow(self.captions)
        form.addRow(self.click_through)
        form.addRow(self.chat_enabled)
        form.addRow("Chat port", self.chat_port)
        self.wayland_note = QLabel("This desktop runs Wayland, which does not let applications keep a "
                                   "window above the others or choose where it goes: the panel stays on top "
                                   "and docked only if your desktop allows it (e.g. a window rule).")
        self.wayland_note.setWordWrap(True)
        if QGuiApplication.platformName().startswith("wayland"):
            form.addRow(self.wayland_note)  # instead of a toggle that would do nothing
            self.on_top.hide()
        else:
            form.addRow(self.on_top)
        return w

    def _hotkeys_page(self, note: str | None) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.keys: dict[str, QKeySequenceEdit] = {}
        for action, label in ACTION_LABELS.items():
            edit = QKeySequenceEdit(QKeySequence(self.settings.hotkeys.get(action, "")))
            edit.setMaximumSequenceLength(1)
            self.keys[action] = edit
            form.addRow(label, edit)
        text = QLabel(note or "The keys work from any window while Callcue runs.")
        text.setWordWrap(True)
        form.addRow(text)
        return w

    # ---- locking and applying --------------------------------------------------------------

    def _controls(self) -> dict[str, QWidget]:
        return {"agent_device": self.agent_device, "customer_device": self.customer_device, "model": self.model,
                "playbook": self.playbook, "profile": self.profile, "edge": self.edge, "screen": self.screen,
                "width": self.width_box, "opacity": self.opacity, "mode": self.mode, "captions": self.captions,
                "click_through": self.click_through, "always_on_top": self.on_top,
                "chat_enabled": self.chat_enabled, "chat_port": self.chat_port}

    def _lock_controls(self) -> None:
        for key, widget in self._controls().items():
            if self.settings.is_locked(key):
                widget.setEnabled(False)
                widget.setToolTip(LOCKED_TIP)
        if self.settings.is_locked("hotkeys"):
            for edit in self.keys.values():
                edit.setEnabled(False)
                edit.setToolTip(LOCKED_TIP)

    def values(self) -> dict[str, Any]:
        def device(combo: QComboBox) -> str | None:
            text = combo.currentData() or combo.currentText()
            return None if text == DEFAULT_DEVICE else text

        return {
            "agent_device": device(self.agent_device),
            "customer_device": device(self.customer_device),
            "model": self.model.currentData(),
            "playbook": self.playbook.text().strip() or None,
            "profile": self.profile.currentData(),
            "edge": self.edge.currentText(),
            "screen": self.screen.currentData(),
            "width": self.width_box.value(),
            "opacity": self.opacity.value() / 100,
            "mode": self.mode.currentText(),
            "captions": self.captions.isChecked(),
            "click_through": self.click_through.isChecked(),
            "always_on_top": self.on_top.isChecked(),
            "chat_enabled": self.chat_enabled.isChecked(),
            "chat_port": None if self.chat_port.value() < 1024 else self.chat_port.value(),
            "hotkeys": {a: e.keySequence().toString(QKeySequence.PortableText) for a, e in self.keys.items()},
        }

    def apply(self) -> None:
        for key, value in self.values().items():
            if getattr(self.settings, key) != value:
                self.settings.set(key, value)  # refused quietly for locked keys: their controls are off
        if self.store is not None:
            try:
                self.store.save(self.settings)
            except OSError as err:
                self.message.setText(f"Could not save to {self.store.path}: {err.strerror}; "
                                     "the settings apply until Callcue quits.")
        emit(self.applied)

    def accept(self) -> None:
        self.apply()
        self._stop_meters()
        super().accept()

    def reject(self) -> None:
        self._stop_meters()
        super().reject()

    def _stop_meters(self) -> None:
        self.agent_meter.stop()
        self.customer_meter.stop()
