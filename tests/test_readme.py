"""The README stays the operator's reference: every setting is in its table, and the quick start has two commands."""

import re
from pathlib import Path

from app.core.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [f"HOCSO_{name.upper()}" for name in Settings.model_fields if f"HOCSO_{name.upper()}`" not in README]
    assert missing == []


def test_quick_start_has_exactly_the_two_commands():
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert [line.strip() for line in block.strip().splitlines()] == ["make run", "make test"]
