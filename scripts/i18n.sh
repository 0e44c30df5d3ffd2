#!/usr/bin/env bash
# Regenerate the zh_Hans catalog from the code and templates, then compile it.
#
#   scripts/i18n.sh
#
# Scans everything under src/xinqiao (templates/, core/, settings.py, api.py, ...) except static
# files, writes src/xinqiao/locale/zh_Hans/LC_MESSAGES/django.po (LOCALE_PATHS) and compiles
# django.mo next to it. Idempotent: when no message changed, the .po is left byte-for-byte as it
# was (makemessages would otherwise bump POT-Creation-Date) and the .mo is not rebuilt.
# New or changed msgids still need a translation (and any "#, fuzzy" flag removed) afterwards;
# tests/core/test_i18n.py fails until they have one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/src/xinqiao"
PO="$APP/locale/zh_Hans/LC_MESSAGES/django.po"
DJANGO_ADMIN="${DJANGO_ADMIN:-$ROOT/.venv/bin/django-admin}"

export DJANGO_SETTINGS_MODULE=xinqiao.settings
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
export XINQIAO_ENV=test

for tool in xgettext msgmerge msgfmt; do
  command -v "$tool" >/dev/null || { echo "i18n.sh: $tool not found (install gettext)" >&2; exit 1; }
done

backup="$(mktemp)"
trap 'rm -f "$backup"' EXIT
had_po=0
if [[ -f "$PO" ]]; then
  cp -p "$PO" "$backup"
  had_po=1
fi

cd "$APP"
"$DJANGO_ADMIN" makemessages --locale zh_Hans --domain django --no-obsolete --add-location file \
  --ignore 'static/*' --ignore 'locale/*' --ignore '__pycache__/*' --verbosity 0

# Only the creation date changed: keep the previous file (and its mtime) so nothing is rewritten.
without_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if [[ $had_po == 1 ]] && cmp -s <(without_date "$backup") <(without_date "$PO"); then
  cp -p "$backup" "$PO"
fi

# compilemessages skips a .mo that is newer than its .po.
"$DJANGO_ADMIN" compilemessages --locale zh_Hans --ignore 'static/*' --verbosity 0
