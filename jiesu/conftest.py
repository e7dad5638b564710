import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from jiesu.lib.clock import SHANGHAI
from jiesu.testing.world import World, build_world


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
    from jiesu.lib import refcache
    from jiesu.portal import throttle

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
