#!/usr/bin/env python3
"""Writes a man page from its template (man/*.in): @NAME@ tokens from --set NAME=VALUE,
and @USAGE@ from the program itself, so the page's synopsis is the text the program
prints and cannot drift from it.

usage: gen_man.py TEMPLATE OUTPUT [--set NAME=VALUE ...] [--usage PROGRAM [ARG ...]]

--usage runs PROGRAM ARG... and takes its output (stdout, else stderr: kcm-hook prints
its usage only with a usage error) from the first line that starts with "usage:", in
any case.
"""
import argparse
import re
import subprocess
import sys


def usage_of(command):
    # The environment of a build can hold KCM_* settings; the usage must not depend on them.
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    for text in (done.stdout, done.stderr):
        match = re.search(r"^usage:.*", text, re.IGNORECASE | re.MULTILINE | re.DOTALL)
        if match:
            # In a sanitizer build a report can follow on stderr; it starts with "==".
            return re.split(r"^==", match.group(0), maxsplit=1, flags=re.MULTILINE)[0]
    sys.exit(f"gen_man.py: {' '.join(command)} printed no usage (exit {done.returncode}): "
             f"{done.stderr.strip()}")


def roff_verbatim(text):
    """The text as lines of an .nf block: backslashes and hyphens escaped, and a line
    that starts with a control character made literal."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return ".nf\n" + "\n".join(lines) + "\n.fi"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("template")
    parser.add_argument("output")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--usage", nargs=argparse.REMAINDER, metavar="PROGRAM")
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as f:
        page = f.read()
    # Values are paths and versions: a plain "-" would render as a typographic hyphen,
    # which a reader cannot paste back into a shell.
    values = {name: value.replace("-", "\\-")
              for name, value in (item.split("=", 1) for item in args.set)}
    if args.usage:
        values["USAGE"] = roff_verbatim(usage_of(args.usage))
    page = re.sub(r"@([A-Z_]+)@", lambda m: values.get(m.group(1), m.group(0)), page)
    left = sorted(set(re.findall(r"@[A-Z_]+@", page)))
    if left:
        sys.exit(f"gen_man.py: {args.template}: no value for {', '.join(left)}")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
