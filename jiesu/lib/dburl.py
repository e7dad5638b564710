"""DATABASE_URL with several hosts, as a PostgreSQL cluster gives it (pg_auto_failover's `show uri`):

    postgres://user@10.0.0.1:5432,10.0.0.2:5432/jiesu?target_session_attrs=read-write

libpq tries the hosts in turn and keeps the one that accepts writes, so after a failover new connections find the
new primary by themselves. dj-database-url reads one host only; this reads the list into Django's HOST and PORT
(comma-separated, passed on to libpq as they are) and every query parameter into OPTIONS.
"""

from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import dj_database_url


def parse(url: str, **kwargs: Any) -> dict[str, Any]:
    parts = urlsplit(url)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    if "," not in hostlist:
        return dict(dj_database_url.parse(url, **kwargs))
    hosts, ports = [], []
    for item in hostlist.split(","):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        hosts.append(host)
        ports.append(port or "5432")
    first = f"{userinfo}@{hosts[0]}:{ports[0]}" if userinfo else f"{hosts[0]}:{ports[0]}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(urlunsplit((parts.scheme, first, parts.path, "", "")), **kwargs)
    )
    config["HOST"], config["PORT"] = ",".join(hosts), ",".join(ports)
    config.setdefault("OPTIONS", {}).update(dict(parse_qsl(parts.query)))
    return config


def standby_url(url: str) -> str:
    """The same cluster, preferring a standby (read-only analytics): `target_session_attrs=prefer-standby`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | {"target_session_attrs": "prefer-standby"}
    return urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())))
