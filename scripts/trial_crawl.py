"""The new user's trial, automated: every page each demo user reaches by links (GET only, Django's test client
against the demo database), reporting server errors (with the exception), raw codes in trails ("open → emerging")
and, in English, Chinese text in headings, labels, buttons and options (data such as place names shows up too).

    JIESU_DEMO=1 JIESU_SQLITE_PATH=/tmp/demo.sqlite3 PYTHONPATH=$PWD .venv/bin/python scripts/trial_crawl.py \
        operator,dispatcher,jw_handler,callback,supervisor,sq_worker zh-hans      # or: en
LIMIT (pages per user, 300) and PER (pages per URL shape, 4) bound the walk.
"""
import os, re, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
django.setup()
from django.test import Client
from django.conf import settings
settings.ALLOWED_HOSTS = ["*"]
from django.contrib.auth import get_user_model
users = sys.argv[1].split(",") if len(sys.argv) > 1 else [u.username for u in get_user_model().objects.filter(is_active=True)[:40]]
lang = sys.argv[2] if len(sys.argv) > 2 else "zh-hans"
LIMIT = int(os.environ.get("LIMIT", "300"))
PER = int(os.environ.get("PER", "4"))
HREF = re.compile(r'href="(/[^"#]*)"')
RAW = re.compile(r"\b(?:[a-z]+_[a-z_]+|new|open|draft|create|emerging|rated|done|claimed|escalated)\s*(?:→|->)\s*[a-z_]+\b|>\s*(?:[a-z]+_[a-z_]+)\s*<")
SKIP = ("/accounts/logout", "/static/", "/admin/", "/i18n/", "/attachments/", "/api/v1/docs", ".xlsx", ".pdf", ".csv", "download", "export")
for username in users:
    c = Client(raise_request_exception=True)
    u = get_user_model().objects.get(username=username)
    c.force_login(u)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    seen, queue, n, seen_count = set(), ["/"], 0, {}
    while queue and n < LIMIT:
        url = queue.pop(0)
        key = re.sub(r"\d+", "N", url.split("?")[0]) + ("?" + re.sub(r"\d+", "N", url.split("?")[1]) if "?" in url else "")
        if seen_count.get(key, 0) >= PER or url in seen: continue
        seen_count[key] = seen_count.get(key, 0) + 1; seen.add(url); n += 1
        try:
            r = c.get(url, follow=True)
        except Exception as e:
            print(f"{username} EXC {url} {type(e).__name__}: {e}"); continue
        if r.status_code >= 500: print(f"{username} {r.status_code} {url}")
        ct = r.get("Content-Type", "")
        if "html" not in ct: continue
        body = r.content.decode("utf-8", "replace")
        # in English the plain words (open, claimed, done …) are labels too; there only snake_case codes count
        for m in set(RAW.findall(body) if lang != "en" else [x for x in RAW.findall(body) if "_" in x]):
            print(f"{username} RAW {url}: {m!r}")
        if lang == "en":
            for m in set(re.findall(r"<(?:th|label|button|h1|h2|h3|legend|summary|option)[^>]*>([^<]*[\u4e00-\u9fff][^<]*)<", body)):
                print(f"{username} ZH {key}: {m.strip()[:60]!r}")
        for h in HREF.findall(body):
            h = h.replace("&amp;", "&")
            if any(s in h for s in SKIP): continue
            queue.append(h)
    print(f"{username}: {n} pages")
