"""Fill untranslated (or fuzzy) entries of the zh_Hans catalog from JSON files of translations.

    .venv/bin/python scripts/i18n_fill.py translations.json [more.json ...]

Each JSON file maps a msgid to its Chinese text; a message with a context is keyed
``"context\\u0004msgid"`` (gettext's own convention). Entries already translated are left alone
unless the JSON says otherwise *and* the entry is fuzzy. Run ``scripts/i18n.sh`` before (to add
the new msgids) and after (to compile). Prints what is still untranslated.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "src/xinqiao/locale/zh_Hans/LC_MESSAGES/django.po"
_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(s: str) -> str:
    s = s.strip()
    return re.sub(r"\\(.)", lambda m: _ESC.get(m.group(1), m.group(1)), s[1:-1])


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _field(lines: list[str], name: str) -> tuple[str | None, int, int]:
    """The value of ``name`` (msgid, msgctxt, ...) in a block, with its first and end line indexes."""
    for i, line in enumerate(lines):
        if line.startswith(name + " "):
            value = _unquote(line[len(name) + 1:])
            j = i + 1
            while j < len(lines) and lines[j].startswith('"'):
                value += _unquote(lines[j])
                j += 1
            return value, i, j
    return None, -1, -1


def fill(translations: dict[str, str | list[str]]) -> list[str]:
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    missing: list[str] = []
    for b, block in enumerate(blocks):
        lines = block.split("\n")
        msgid, _, _ = _field(lines, "msgid")
        if not msgid:
            continue
        ctxt, _, _ = _field(lines, "msgctxt")
        key = f"{ctxt}\x04{msgid}" if ctxt is not None else msgid
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        plural, _, _ = _field(lines, "msgid_plural")
        name = "msgstr[0]" if plural is not None else "msgstr"
        current, start, end = _field(lines, name)
        if current and not fuzzy:
            continue
        text = translations.get(key)
        if text is None:
            missing.append(key.replace("\x04", " | "))
            continue
        value = text[0] if isinstance(text, list) else text
        lines[start:end] = [f"{name} {_quote(value)}"]
        cleaned = []
        for line in lines:
            if line.startswith("#,") and "fuzzy" in line:
                flags = [f.strip() for f in line[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
                if flags:
                    cleaned.append("#, " + ", ".join(flags))
                continue
            if line.startswith("#| "):
                continue
            cleaned.append(line)
        blocks[b] = "\n".join(cleaned)
    PO.write_text("\n\n".join(blocks), encoding="utf-8")
    return missing


def main(paths: list[str]) -> int:
    translations: dict[str, str | list[str]] = {}
    for path in paths:
        translations.update(json.loads(Path(path).read_text(encoding="utf-8")))
    missing = fill(translations)
    for key in missing:
        print("untranslated:", key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
