"""Settings for bench/load_bench.py only: jiesu's production settings plus a minimal create view (the ceiling).
Never used by the application itself."""

from jiesu.settings import *  # noqa: F403

ROOT_URLCONF = "load_bench_urls"
