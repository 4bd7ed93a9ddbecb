#!/usr/bin/env python3
"""Check the demo site for broken links and external references.

Every href/src in www/**/*.html and every url() in www/**/*.css must name a file
that exists (a directory counts if it has index.html), every #fragment must
name an id in the target page, and nothing may point off-site: the site has to
work fully offline. Exit status 0 when clean, 1 otherwise.

    python3 tools/www_linkcheck.py [WWW_DIR]
"""
import html.parser
import os
import re
import sys
from urllib.parse import unquote, urlsplit


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            elif name in ("href", "src", "poster", "data"):
                self.refs.append((tag, name, value))
            elif name == "srcset":
                for part in value.split(","):
                    if part.strip():
                        self.refs.append((tag, name, part.split()[0]))

    handle_startendtag = handle_starttag


def parse(path):
    p = Refs()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def resolve(root, page, url):
    """The file a local URL names, or None when it names nothing."""
    path = unquote(urlsplit(url).path)
    if not path:
        return page
    base = root if path.startswith("/") else os.path.dirname(page)
    target = os.path.normpath(os.path.join(base, path.lstrip("/")))
    if not (target + os.sep).startswith(root + os.sep) and target != root:
        return None
    if os.path.isdir(target):
        target = os.path.join(target, "index.html")
    return target if os.path.isfile(target) else None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", "www"))
    errors, checked = [], 0
    pages, styles = [], []
    for d, _, files in os.walk(root):
        for f in files:
            (pages if f.endswith(".html") else styles if f.endswith(".css") else []).append(
                os.path.join(d, f))
    ids = {}
    refs = []
    for page in sorted(pages):
        p = parse(page)
        ids[page] = p.ids
        refs += [(page, v) for _, _, v in p.refs]
        with open(page, "rb") as f:
            raw = f.read()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(f"{page}: not UTF-8 ({e})")
        if b'<meta charset="utf-8">' not in raw:
            errors.append(f"{page}: no <meta charset=\"utf-8\">")
    for css in styles:
        with open(css, encoding="utf-8") as f:
            for m in re.finditer(r"url\(\s*['\"]?([^'\")]+)", f.read()):
                refs.append((css, m.group(1)))
    for page, url in refs:
        checked += 1
        rel = os.path.relpath(page, root)
        u = urlsplit(url)
        if u.scheme in ("data",):
            continue
        if u.scheme or u.netloc:
            errors.append(f"{rel}: external reference {url}")
            continue
        target = resolve(root, page, url)
        if target is None:
            errors.append(f"{rel}: broken link {url}")
            continue
        if u.fragment and target.endswith(".html"):
            if target not in ids:
                ids[target] = parse(target).ids
            if u.fragment not in ids[target]:
                errors.append(f"{rel}: no id \"{u.fragment}\" for {url}")
    for e in errors:
        print(e)
    print(f"{len(pages)} pages, {checked} references, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
