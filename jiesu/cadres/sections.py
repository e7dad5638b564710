"""Sections that higher apps add to the cadre profile (实绩档案), so that `cadres` never imports them.

`training` sits above `cadres` (it imports cadres, never the reverse) yet its training record (培训档案) belongs on
the profile. An app registers a section in its `AppConfig.ready`: `sections.register("training", build, order=50)`,
where `build(viewer, profile)` returns a `Section` (its heading, the template that draws it and that template's
context) or None to show nothing. The profile page has already checked that the viewer may read the profile
(`cadres.access`); a section may narrow that further, never widen it. Sections follow the profile's own cards, by
`order`, then name.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import CadreProfile


@dataclass(frozen=True)
class Section:
    name: str
    title: Any  # a (lazy) translated heading
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Build = Callable[[Any, CadreProfile], Section | None]

_sections: dict[str, tuple[int, Build]] = {}


def register(name: str, build: Build, *, order: int = 50) -> None:
    _sections[name] = (order, build)


def for_profile(viewer: Any, profile: CadreProfile) -> list[Section]:
    """The registered sections the viewer gets on this profile, in order."""
    out = []
    for _order, name in sorted((order, name) for name, (order, _b) in _sections.items()):
        section = _sections[name][1](viewer, profile)
        if section is not None:
            out.append(section)
    return out
