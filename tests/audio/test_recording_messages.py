"""What a recording that is not audio is told (issue 19 item 10)."""

import os

import pytest

from callcue.audio.recording import read_recording
from callcue.errors import CallcueError


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".flac", ".ogg", ".bin"])
def test_random_bytes_are_not_audio_not_a_missing_file(tmp_path, suffix):
    p = tmp_path / f"noise{suffix}"
    p.write_bytes(os.urandom(4000))
    with pytest.raises(CallcueError) as err:
        read_recording(p)
    msg = str(err.value)
    assert msg.startswith(str(p)) and "does not exist" not in msg and "no such file" not in msg
    assert "\n" not in msg
