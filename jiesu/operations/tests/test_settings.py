"""Settings are declared once, in jiesu/settings.py, read from `JIESU_` environment variables, and read in the code
as plain `settings.X` (never `getattr(settings, "X", default)`, which hides an undeclared setting and its default)."""

import re
from pathlib import Path

from django.conf import global_settings, settings

ROOT = Path(__file__).resolve().parents[2]  # jiesu/
SETTINGS = ROOT / "settings.py"


def sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "migrations" not in p.parts and p != Path(__file__).resolve()]


def test_no_getattr_on_settings() -> None:
    found = [
        f"{p.relative_to(ROOT.parent)}:{n}"
        for p in sources()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"getattr\(\s*settings\b", line)
    ]
    assert found == [], "declare the setting in jiesu/settings.py and read it as settings.X: " + ", ".join(found)


def test_every_setting_the_code_reads_is_declared() -> None:
    declared = set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*(?::[^=]+)?=", SETTINGS.read_text(encoding="utf-8"), re.M))
    django_defaults = {name for name in dir(global_settings) if name.isupper()}
    read = {
        (m, p.relative_to(ROOT.parent))
        for p in sources()
        if p != SETTINGS
        for m in re.findall(r"\bsettings\.([A-Z][A-Z0-9_]*)\b", p.read_text(encoding="utf-8"))
    }
    undeclared = sorted(f"{name} ({path})" for name, path in read if name not in declared | django_defaults)
    assert undeclared == []
    assert all(hasattr(settings, name) for name, _ in read)


def test_environment_variables_carry_the_jiesu_prefix() -> None:
    text = SETTINGS.read_text(encoding="utf-8")
    names = set(re.findall(r"""(?:os\.environ(?:\.get)?[\[(]|env(?:int|bool)\()\s*["']([A-Z0-9_]+)["']""", text))
    assert names and {n for n in names if not n.startswith("JIESU_")} == {"DATABASE_URL", "PYTEST_VERSION"}
