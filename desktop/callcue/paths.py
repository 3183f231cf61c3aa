"""Where Callcue's own files are: bundled resources, models beside the app, user data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "callcue"


def app_root() -> Path:
    """The folder that holds `resources/` and `models/`.

    In a PyInstaller bundle it is the bundle's folder; from a checkout it is the
    checkout's top level (desktop/callcue/paths.py is two levels below it).
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    override = os.environ.get("CALLCUE_RESOURCES")
    return Path(override) if override else app_root() / "resources"


def bundled_models_dir() -> Path:
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / "models"
    return app_root() / "models"


def user_data_dir() -> Path:
    override = os.environ.get("CALLCUE_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP, appauthor=False))


def user_config_dir() -> Path:
    override = os.environ.get("CALLCUE_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))
