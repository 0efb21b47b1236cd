#!/usr/bin/env bash
# Re-extract the translatable strings into webapp/translations/messages.pot and merge them into each catalog.
#
#   scripts/update-translations.sh           extract, update en and fr, list what French still lacks
#   scripts/update-translations.sh --check   change nothing; exit 1 if French lacks or has fuzzy translations
#
# After an update, translate every entry listed (empty msgstr) in webapp/translations/fr/LC_MESSAGES/messages.po,
# then `make translations` compiles the .mo files and tests/test_i18n.py checks the catalog is complete.
# English is the source language: its catalog stays untranslated (msgstr "" falls back to the msgid, plurals
# included) and exists so English has the same plural rule and the same set of messages.
# Fuzzy matching is off (-N): a changed string shows in English until someone translates it, never a
# near-miss translation of the old wording.
set -euo pipefail
cd "$(dirname "$0")/.."

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
PYTHON=${PYTHON:-.venv/bin/python}
DIR=webapp/translations
POT=$DIR/messages.pot
LANGS=(en fr ar)
# Keep these keywords in step with KEYWORDS in tests/test_i18n.py. A bare `-k ngettext` would replace Babel's
# default spec (1,2) and drop every plural form, hence the explicit :1,2.
KEYWORDS=(-k _ -k gettext -k ngettext:1,2 -k _l -k lazy_gettext -k lazy_ngettext:1,2)

missing_french() {
  "$PYTHON" - "$DIR/fr/LC_MESSAGES/messages.po" <<'PY'
import sys
from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as f:
    catalog = read_po(f)
todo = [m for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
for m in todo:
    msgid = m.id[0] if isinstance(m.id, tuple) else m.id
    print(f"  {'fuzzy' if m.fuzzy else 'untranslated'}: {msgid!r}")
print(f"{len(todo)} French message(s) to translate in {sys.argv[1]}")
sys.exit(1 if todo else 0)
PY
}

if [[ "${1:-}" == "--check" ]]; then
  missing_french
  exit $?
fi

"$PYBABEL" -q extract -F babel.cfg "${KEYWORDS[@]}" -c TRANSLATORS: --add-location=file --no-wrap \
  --project=Harambee --copyright-holder="Harambee" -o "$POT" .

for lang in "${LANGS[@]}"; do
  if [[ ! -f "$DIR/$lang/LC_MESSAGES/messages.po" ]]; then
    "$PYBABEL" -q init -i "$POT" -d "$DIR" -l "$lang" --no-wrap
  fi
  "$PYBABEL" -q update -i "$POT" -d "$DIR" -l "$lang" -N --ignore-obsolete --ignore-pot-creation-date --no-wrap
done

missing_french || true
