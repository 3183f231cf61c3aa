"""Options are checked when they are read: one argparse error line and exit code 2 (issue 19 item 6)."""

import argparse

import pytest

from callcue.cli import main
from callcue.commands import whole_number


@pytest.mark.parametrize("value, got", [("-5", "-5"), ("0", "0"), ("70000", "70000"), ("1.5", "'1.5'"),
                                        ("lots", "'lots'")])
def test_listen_refuses_a_cache_outside_the_settings_range(value, got, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["listen", "--cache-mb", value])
    assert exit_.value.code == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if "error:" in ln]
    assert errors == ["callcue listen: error: argument --cache-mb: must be a whole number of MB from 30 to 65536, "
                      f"not {got}"]


def test_whole_number_keeps_good_values():
    parse = whole_number(30, 65536, "MB")
    assert parse("30") == 30 and parse(" 200 ") == 200 and parse("65536") == 65536
    with pytest.raises(argparse.ArgumentTypeError):
        parse("29")


@pytest.mark.parametrize("speed", ["nan", "-1", "1001", "inf"])
def test_demo_refuses_a_speed_out_of_range(speed, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--headless", "--speed", speed])
    assert exit_.value.code == 2
    assert "argument --speed" in capsys.readouterr().err
