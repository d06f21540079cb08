"""The README is part of the product: every setting and command it must explain is there."""

from pathlib import Path

from api.cli import build_parser
from models.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [name for name, _, _ in Settings.describe() if f"`{name}`" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = [name for name in commands if f"lodestar {name}" not in README]
    assert missing == []
