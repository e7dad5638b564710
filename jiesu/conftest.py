import datetime as dt
import os
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from jiesu.lib.clock import SHANGHAI
from jiesu.testing.world import World, build_world

SHARED_DATA_MISSING: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `shared_data(...)` needs those paths under ../shared/data. Where they are absent it is skipped
    with the reason (shown in the summary), except in CI (`CI` set), where the data is meant to be there and the
    test fails instead; `JIESU_SHARED_DATA_OPTIONAL=1` declares a CI run without the data."""
    marker = item.get_closest_marker("shared_data")
    if marker is None:
        return
    from jiesu.intel import datasets

    missing = datasets.missing(*marker.args)
    if missing is None:
        return
    SHARED_DATA_MISSING.append(item.nodeid)
    reason = f"needs ../shared/data: {missing} (set JIESU_SHARED_DATA)"
    if os.environ.get("CI") and not os.environ.get("JIESU_SHARED_DATA_OPTIONAL"):
        pytest.fail(f"{reason}; in CI the data must be there (JIESU_SHARED_DATA_OPTIONAL=1 if not)", pytrace=False)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SHARED_DATA_MISSING:
        from jiesu.intel import datasets

        terminalreporter.write_sep(
            "=",
            f"{len(SHARED_DATA_MISSING)} tests did not run: shared data not found under {datasets.root()}",
            yellow=True,
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Seed the reference data once; tests roll back on top of it."""
    with django_db_blocker.unblock():
        build_world()


@pytest.fixture(autouse=True)
def _chinese_first() -> Any:
    """Each test starts in the default language (zh-hans), whatever a previous request activated."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Any:
    """Each test starts with empty reference caches and rate-limit buckets: a rollback sends no signal."""
    from jiesu.lib import refcache, throttle

    refcache.clear()
    throttle.reset_local()
    yield
    refcache.clear()
    throttle.reset_local()


@pytest.fixture(autouse=True)
def _model_dir(settings: Any, tmp_path: Any) -> None:
    """Model files a test trains go to its own folder, not the working copy's var/."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.COLUMNAR_DIR = tmp_path / "columnar"


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def clock() -> Any:
    """A travelling clock starting on a working Tuesday morning in Beijing (2026-11-17 09:00)."""
    with time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller
