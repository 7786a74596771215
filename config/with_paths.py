#!/usr/bin/env python3
"""Copies a file of config/ with the install paths of this build in place of the ones
the file names for a by-hand install under /usr/local (docs/runtime.md), so the source
file stays usable as it is and the installed copy names where `meson install` put the
programs.

usage: with_paths.py IN OUT --hook=PATH --bindir=DIR --docdir=DIR
"""
import argparse
import re
import sys

# Longest first: the hook's path starts with the bin directory.
DEFAULTS = (("hook", "/usr/local/bin/kcm-hook"),
            ("bindir", "/usr/local/bin"),
            ("docdir", "/usr/local/share/doc/kcm"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    for name, _ in DEFAULTS:
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    # A file that names none of the paths would be installed unchanged, pointing at
    # /usr/local whatever the prefix: refuse, so a change to the file shows here.
    if not any(default in text for _, default in DEFAULTS):
        sys.exit(f"with_paths.py: {args.input} names none of "
                 f"{', '.join(d for _, d in DEFAULTS)}")
    # One pass, so a replacement is never itself rewritten by a later default.
    by_default = {default: getattr(args, name) for name, default in DEFAULTS}
    pattern = "|".join(re.escape(default) for _, default in DEFAULTS)
    text = re.sub(pattern, lambda m: by_default[m.group(0)], text)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
