#!/usr/bin/env bash
# Re-extract the translatable strings into webapp/translations/messages.pot and merge them into each catalog.
#
#   scripts/update-translations.sh           extract, update every catalog of LANGUAGES (config.py), list what each lacks
#   scripts/update-translations.sh --check   change nothing; exit 1 if a catalog lacks translations or has fuzzy ones
#
# The languages are config.py's LANGUAGES: a language added there gets its catalog created here (pybabel init,
# with Babel's plural rule for it: Arabic has 6 forms). After an update, translate every entry listed (empty
# msgstr) in webapp/translations/<lang>/LC_MESSAGES/messages.po (scripts/translation-chunks.py dumps them to JSON
# and merges the translations back), then `make translations` compiles the .mo files and tests/test_i18n.py checks
# every catalog is complete, non-fuzzy, keeps the placeholders and has its language's plural forms.
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
read -r -a LANGS <<<"$("$PYTHON" -c 'from config import Config; print(*Config.LANGUAGES)')"
# Keep these keywords in step with KEYWORDS in tests/test_i18n.py. A bare `-k ngettext` would replace Babel's
# default spec (1,2) and drop every plural form, hence the explicit :1,2.
KEYWORDS=(-k _ -k gettext -k ngettext:1,2 -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2)

# English is the source: its catalog stays untranslated. Every other language must be complete.
missing() {
  local lang=$1
  "$PYTHON" - "$DIR/$lang/LC_MESSAGES/messages.po" "$lang" <<'PY'
import sys
from pathlib import Path
from babel import Locale
from babel.messages.pofile import read_po

path, lang = sys.argv[1], sys.argv[2]
if not Path(path).exists():
    print(f"no catalog for {lang}: {path} (run scripts/update-translations.sh)")
    sys.exit(1)
with open(path, "rb") as f:
    catalog = read_po(f)
todo = [m for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
for m in todo:
    msgid = m.id[0] if isinstance(m.id, tuple) else m.id
    print(f"  {'fuzzy' if m.fuzzy else 'untranslated'}: {msgid!r}")
print(f"{len(todo)} {Locale.parse(lang).english_name} message(s) to translate in {path}")
sys.exit(1 if todo else 0)
PY
}

missing_all() {
  local status=0 lang
  for lang in "${LANGS[@]}"; do
    [[ "$lang" == en ]] && continue
    missing "$lang" || status=1
  done
  return $status
}

if [[ "${1:-}" == "--check" ]]; then
  missing_all
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

missing_all || true
