"""Demo and benchmark code stays out of the production apps: nothing outside `jiesu/demo/` (and tests) imports it,
and the demo app is installed only when JIESU_DEMO is on (default off outside pytest)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # jiesu/
PROBE = (
    "import django; django.setup(); from django.apps import apps; from django.core.management import get_commands; "
    "print(apps.is_installed('jiesu.demo'), 'demo' in get_commands(), 'seed' in get_commands())"
)


def test_no_production_module_imports_the_demo() -> None:
    offenders = [
        str(p.relative_to(ROOT.parent))
        for p in ROOT.rglob("*.py")
        if "demo" not in p.relative_to(ROOT).parts[:1]
        and "tests" not in p.parts
        and re.search(
            r"^\s*(from jiesu\.demo\b|from jiesu import demo\b|import jiesu\.demo\b)", p.read_text("utf-8"), re.M
        )
    ]
    assert offenders == []


def test_one_file_per_meaning_no_bench_helpers_in_production_apps() -> None:
    assert not list(ROOT.rglob("reference.py"))
    for app in ROOT.iterdir():
        if app.name != "demo" and app.is_dir():
            assert not (app / "generator.py").exists() and not (app / "demo.py").exists(), app
            assert not (app / "management" / "commands" / "bench.py").exists(), app


def probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "JIESU_DEMO"}}
    clean.update(DJANGO_SETTINGS_MODULE="jiesu.settings", PYTHONPATH=str(ROOT.parent), **env)
    done = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_demo_app_is_installed_only_when_asked() -> None:
    assert probe() == "False False True"  # production: `jiesu seed` loads the reference data, no `jiesu demo`
    assert probe(JIESU_DEMO="1") == "True True True"
