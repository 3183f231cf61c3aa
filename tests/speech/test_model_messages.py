"""A damaged model's message says what is wrong without quoting its raw bytes (issue 19 item 10)."""

import pytest

from callcue.errors import CallcueError
from callcue.speech.models import _kaldi_reason, _without_bytes, load_model
from tests.speech.conftest import make_fake_model


@pytest.mark.parametrize("reason, shown", [
    ('Expected token "<TransitionModel>", got instead "ab"c\ufffd\x01zz',
     'Expected token "<TransitionModel>", got instead unreadable bytes'),
    ('Failed to read matrix from stream.  : Expected "[", got "yJ\ufffdn', 'Expected "[", got unreadable bytes'),
    ("Invalid line in word-boundary file: \ufffditd", "Invalid line in word-boundary file: unreadable bytes"),
    ("Bad FST header: /home/김/graph/Gr.fst. Magic number not matched",
     "Bad FST header: /home/김/graph/Gr.fst. Magic number not matched"),  # text stays, whatever its script
    ("stray escape \x1b[2J here", "stray escape unreadable bytes"),
])
def test_raw_bytes_end_the_reason(reason, shown):
    assert shown in _without_bytes(reason) and _without_bytes(reason).isprintable()
    assert _kaldi_reason([f"ERROR (VoskAPI:ReadToken():io-funcs.cc:1) {reason}"]).endswith(shown)


def test_a_model_file_of_random_bytes_is_not_quoted(tmp_path):
    folder = make_fake_model(tmp_path / "damaged")  # am/final.mdl is random bytes
    with pytest.raises(CallcueError) as err:
        load_model(folder)
    msg = str(err.value)
    assert msg.startswith(f"{folder}: the speech model failed to load") and "damaged" in msg
    assert msg.isprintable() and "\ufffd" not in msg
