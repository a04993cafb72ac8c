"""README stays true: every key of the help screen and every flag of --help is documented."""

from __future__ import annotations

from tests.conftest import REPO
from tui.flags import build_parser
from tui.keys import KEYS

README = (REPO / "README.md").read_text()


def test_every_key_is_in_readme() -> None:
    for key, _ in KEYS:
        first = key.split(" / ")[0].split()[0]
        assert f"`{first}" in README, key


def test_every_flag_is_in_readme() -> None:
    for action in build_parser()._actions:
        for option in action.option_strings:
            if option in ("-h", "--help"):
                continue
            assert f"`{option}" in README or f"{option}`" in README or f" {option}" in README, (
                option
            )
