"""The zh_Hans catalog: complete, compiled, up to date with the code, and actually used.

Regenerate and compile with ``scripts/i18n.sh``; translate what it adds, then run this file.
The .po is parsed with a small reader here (no polib); gettext's tools are used when installed.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

import xinqiao

APP_DIR = Path(xinqiao.__file__).resolve().parent
LC_MESSAGES = APP_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

# What scripts/i18n.sh leaves out of the scan (static files) plus what must not be copied.
COPY_IGNORE = shutil.ignore_patterns("static", "locale", "__pycache__", "*.pyc")
PLACEHOLDER_RE = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def where(self) -> str:
        return f"{PO_FILE.name}:{self.line} {self.msgid!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a quoted string: {text}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first (obsolete ``#~`` entries are skipped)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    seen_msgstr = False

    def start(lineno: int) -> Entry:
        nonlocal entry, seen_msgstr
        entry = Entry(line=lineno)
        entries.append(entry)
        seen_msgstr = False
        return entry

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is None or seen_msgstr:
                start(lineno)
            assert entry is not None
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            assert entry is not None and target is not None, f"{path.name}:{lineno}: stray string"
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += _unquote(line)
            else:
                setattr(entry, name, (getattr(entry, name) or "") + _unquote(line))
            continue
        if keyword in ("msgctxt", "msgid") and (entry is None or seen_msgstr or (keyword == "msgid" and entry.msgid)):
            start(lineno)
        assert entry is not None, f"{path.name}:{lineno}: unexpected {keyword}"
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(entry, keyword, _unquote(rest))
            target = (keyword, 0)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            entry.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
            seen_msgstr = True
        else:
            raise AssertionError(f"{path.name}:{lineno}: unknown keyword {keyword}")
    return entries


def header(entries: list[Entry]) -> dict[str, str]:
    first = entries[0]
    assert first.msgid == "" and first.msgctxt is None, "the .po has no header entry first"
    pairs = (line.split(":", 1) for line in first.msgstr[0].splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid != "" or e.msgctxt is not None]


def test_catalog_complete_and_not_fuzzy() -> None:
    entries = parse_po(PO_FILE)
    head = header(entries)
    assert head.get("Language") == "zh_Hans"
    assert "charset=UTF-8" in head.get("Content-Type", "")
    assert head.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"
    assert "fuzzy" not in entries[0].flags, "the header is still marked fuzzy"
    msgs = messages(entries)
    assert msgs, "the catalog is empty"
    fuzzy = [e.where() for e in msgs if "fuzzy" in e.flags]
    untranslated = [e.where() for e in msgs if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    wrong_forms = [e.where() for e in msgs if e.msgid_plural is not None and sorted(e.msgstr) != [0]]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries (run scripts/i18n.sh, then translate): {untranslated}"
    assert not wrong_forms, f"plural entries need exactly msgstr[0] (nplurals=1): {wrong_forms}"


def test_translations_keep_placeholders() -> None:
    bad = []
    for e in messages(parse_po(PO_FILE)):
        if "python-format" not in e.flags:
            continue
        wanted = sorted(PLACEHOLDER_RE.findall(e.msgid_plural or e.msgid))
        bad.extend(e.where() for s in e.msgstr.values() if s and sorted(PLACEHOLDER_RE.findall(s)) != wanted)
    assert not bad, f"placeholders differ from the msgid: {bad}"


def test_compiled_catalog_matches_po(tmp_path: Path) -> None:
    assert MO_FILE.exists(), "django.mo is missing: run scripts/i18n.sh"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603  (msgfmt from PATH on our own catalog)
        [msgfmt, "--check-format", "-o", str(fresh), str(PO_FILE)], check=True, capture_output=True
    )
    with MO_FILE.open("rb") as committed, fresh.open("rb") as compiled:
        committed_catalog = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    stale = sorted(str(k) for k in committed_catalog.keys() ^ compiled_catalog.keys())
    changed = sorted(str(k) for k in committed_catalog.keys() & compiled_catalog.keys()
                     if committed_catalog[k] != compiled_catalog[k])
    assert not stale and not changed, f"django.mo is older than django.po (run scripts/i18n.sh): {stale + changed}"


def test_catalog_up_to_date_with_code(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext is not installed")
    copy = tmp_path / "xinqiao"
    shutil.copytree(APP_DIR, copy, ignore=COPY_IGNORE)
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], domain="django", ignore_patterns=["static/*"],
                 no_obsolete=True, verbosity=0)
    extracted = {e.key for e in messages(parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    committed = {e.key for e in messages(parse_po(PO_FILE))}
    missing = sorted(msgid for _ctx, msgid, _plural in extracted - committed)
    assert not missing, f"msgids missing from django.po (run scripts/i18n.sh, then translate): {missing}"


def test_login_page_default_language_is_chinese(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "登录" in content
    assert "Sign in" not in content


def test_login_page_in_english(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Sign in" in content
    assert "登录" not in content
