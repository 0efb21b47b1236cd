#!/usr/bin/env python3
"""Translate a catalog in chunks: dump its untranslated messages to JSON files, merge translated JSON back.

    scripts/translation-chunks.py dump  LANG OUTDIR [--size 100] [--reference fr]
        writes OUTDIR/chunk-001.json, ...: a list of {"id", "plural", "where", "reference"} per untranslated
        (or fuzzy) message of webapp/translations/LANG/LC_MESSAGES/messages.po; "reference" is the same message
        in another catalog (French by default), to tell a translator what an ambiguous English string means.
    scripts/translation-chunks.py merge LANG FILE...
        each FILE is a JSON object {msgid: translation}, the translation a string, or for a plural message a
        list of as many forms as the catalog's Plural-Forms says; the .po is rewritten with them. A FILE named
        chunk-NNN.tr.json may instead key its translations by their index in the dumped chunk-NNN.json. A translation
        whose placeholders differ from the msgid's, or a plural with the wrong number of forms, is refused.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "webapp" / "translations"
PRINTF = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def po_path(lang: str) -> Path:
    return DIR / lang / "LC_MESSAGES" / "messages.po"


def load(lang: str):
    with po_path(lang).open("rb") as f:
        return read_po(f)


def forms(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def todo(catalog):
    return [m for m in catalog if m.id and (m.fuzzy or not all(s.strip() for s in forms(m.string)))]


def dump(args) -> int:
    catalog = load(args.lang)
    reference = load(args.reference) if args.reference and po_path(args.reference).exists() else None
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for m in todo(catalog):
        ids = forms(m.id)
        ref = reference.get(m.id) if reference is not None else None
        items.append({
            "id": ids[0],
            "plural": ids[1] if len(ids) > 1 else None,
            "where": sorted({loc for loc, _ in m.locations}),
            "reference": list(forms(ref.string)) if ref is not None and len(ids) > 1 else (ref.string if ref else None),
        })
    for n, start in enumerate(range(0, len(items), args.size), 1):
        path = out / f"chunk-{n:03d}.json"
        path.write_text(json.dumps(items[start:start + args.size], ensure_ascii=False, indent=1) + "\n")
    print(f"{len(items)} message(s) to translate in {po_path(args.lang)}, in {-(-len(items) // args.size)} chunk(s)")
    return 0


def merge(args) -> int:
    catalog = load(args.lang)
    nplurals = catalog.num_plurals
    problems, merged = [], 0
    for file in args.files:
        translations = json.loads(Path(file).read_text())
        dumped = Path(str(file).replace(".tr.json", ".json"))
        if str(file).endswith(".tr.json") and dumped.exists():
            ids = [item["id"] for item in json.loads(dumped.read_text())]
            translations = {ids[int(k)] if k.isdigit() else k: v for k, v in translations.items()}
        for msgid, translation in translations.items():
            m = catalog.get(msgid)
            if m is None:
                problems.append(f"{file}: not in the catalog: {msgid!r}")
                continue
            ids = forms(m.id)
            strings = tuple(translation) if isinstance(translation, list) else (translation,)
            if len(ids) > 1 and len(strings) != nplurals:
                problems.append(f"{file}: {msgid!r} needs {nplurals} plural forms, has {len(strings)}")
                continue
            if len(ids) == 1 and len(strings) != 1:
                problems.append(f"{file}: {msgid!r} is not plural")
                continue
            expected = set(PRINTF.findall(ids[-1]))
            bad = [s for s in strings if set(PRINTF.findall(s)) != expected]
            if bad:
                problems.append(f"{file}: {msgid!r}: placeholders {sorted(expected)} not kept in {bad!r}")
                continue
            m.string = strings if len(ids) > 1 else strings[0]
            m.flags.discard("fuzzy")
            merged += 1
    with po_path(args.lang).open("wb") as f:
        write_po(f, catalog, width=0, ignore_obsolete=True, include_previous=False)
    print(f"merged {merged}; {len(todo(catalog))} left to translate")
    for p in problems:
        print("  " + p, file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("lang")
    d.add_argument("outdir")
    d.add_argument("--size", type=int, default=100)
    d.add_argument("--reference", default="fr")
    d.set_defaults(run=dump)
    m = sub.add_parser("merge")
    m.add_argument("lang")
    m.add_argument("files", nargs="+")
    m.set_defaults(run=merge)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
