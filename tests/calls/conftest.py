"""The speech tests' model folders, isolated per test, for the live pipeline's tests too."""

from tests.speech.conftest import isolated_dirs, korean_model  # noqa: F401 - fixtures
