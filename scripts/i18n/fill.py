"""Fill a makemessages .po file with the translations of jiesu/locale/zh_Hans.py. Fails on a missing one.
A pgettext entry (msgctxt) is looked up as "context\x04msgid"."""

import ast
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[2]
table = ast.literal_eval(
    re.search(r"ZH_HANS = (\{.*?\n\})", (root / "jiesu/locale/zh_Hans.py").read_text(encoding="utf-8"), re.S).group(1)
)
plurals = ast.literal_eval(
    re.search(r"PLURALS = (\{.*?\})\n", (root / "jiesu/locale/zh_Hans.py").read_text(encoding="utf-8"), re.S).group(1)
)


def unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line.split(" ", 1)[1] if not line.startswith('"') else line) for line in lines)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


path = Path(sys.argv[1])
blocks = path.read_text(encoding="utf-8").split("\n\n")
out, missing = [], []
for block in blocks:
    lines = block.strip("\n").split("\n")
    keep = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")]
    if not body:
        out.append(block)
        continue
    fields: dict[str, list[str]] = {}
    current = None
    for ln in body:
        if ln.startswith('"'):
            fields[current].append(ln)
        else:
            current = ln.split(" ", 1)[0]
            fields[current] = [ln]
    msgid = unquote(fields["msgid"])
    if msgid == "":
        header = block.replace('"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n"', '"Plural-Forms: nplurals=1; plural=0;\\n"')
        out.append(header.replace("#, fuzzy\n", ""))
        continue
    keep = [ln for ln in keep if not ln.startswith("#, fuzzy")]
    if "msgid_plural" in fields:
        if msgid not in plurals:
            missing.append(msgid)
            continue
        entry = keep + [f"msgid {quote(msgid)}", f"msgid_plural {quote(unquote(fields['msgid_plural']))}"]
        entry += [f"msgstr[{i}] {quote(t)}" for i, t in enumerate(plurals[msgid])]
    elif "msgctxt" in fields:  # pgettext: the table's key is "context\x04msgid"
        context = unquote(fields["msgctxt"])
        key = f"{context}\x04{msgid}"
        if key not in table:
            missing.append(f"{context}|{msgid}")
            continue
        entry = keep + [f"msgctxt {quote(context)}", f"msgid {quote(msgid)}", f"msgstr {quote(table[key])}"]
    else:
        if msgid not in table:
            missing.append(msgid)
            continue
        entry = keep + [f"msgid {quote(msgid)}", f"msgstr {quote(table[msgid])}"]
    out.append("\n".join(entry))
path.write_text("\n\n".join(out).rstrip("\n") + "\n", encoding="utf-8")
if missing:
    sys.exit("missing zh_Hans translations:\n  " + "\n  ".join(missing))
