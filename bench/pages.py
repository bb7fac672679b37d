#!/usr/bin/env python3
"""Generate the benchmark site: N article pages and the listing pages that link them.

    python3 bench/pages.py SITE_DIR N

Python 3.11 standard library only; deterministic. Page k is the same whatever N is, so one
directory serves every N: pages already there are kept (they are rebuilt when this script or the
corpus changes). Writes into SITE_DIR:

    p/<id>.html            article k (k = 0..N); served at /post/<id>/<slug> (nginx rewrites by id)
    listing-first.html     the listing for the first pass: article 0 only (the baseline)
    listing-full-N.html    the listing for the second pass: articles N..1 (newest first), then 0
    urls-N.txt             the paths of the N new articles (for urlwatch), oldest first
    stats-N.json           sizes, languages and labels of the N new articles

Article bodies are the real press notes of tests/fixtures/corpus/dev.jsonl and seed-article.txt
(in a fixed shuffled order, cycled when N is larger). The chrome copies a Drupal 7 government
site (dprcg.gov.in, the markup of tests/fixtures/sites/dpr/): inline CSS and Drupal.settings
JavaScript, a mega-menu of the 33 districts and departments, a breaking-news ticker, sidebars
full of other headlines with teasers (from every corpus file), related news, share links, a
comment form and a footer link farm. Each article page is padded to a size drawn between 60 and
150 KB, like the real pages. The article selectors are those of the bundled DPR source:
title `h1.page-title`, body `.field-name-body`, date `.date-display-single`; listing item
`.view-content .views-row`, link `h3 a`.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import html
import json
import multiprocessing
import os
import random
import re
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "fixtures", "corpus")
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
HOST = "https://dprcg.gov.in"
SITE = "जनसंपर्क विभाग, छत्तीसगढ़ शासन"
FIRST_ID = 1_700_000_000  # article 0 (Unix time of publication, as DPR ids are)
ID_STEP = 613  # seconds between two articles
MIN_KB, MAX_KB = 60, 150
MAX_LISTING = 5 * 1024 * 1024  # niryat refuses bodies over 5 MiB

DISTRICTS = [
    "बालोद", "बलौदाबाजार", "बलरामपुर", "बस्तर", "बेमेतरा", "बीजापुर", "बिलासपुर", "दंतेवाड़ा",
    "धमतरी", "दुर्ग", "गरियाबंद", "गौरेला-पेण्ड्रा-मरवाही", "जांजगीर-चांपा", "जशपुर", "कबीरधाम",
    "कांकेर", "खैरागढ़-छुईखदान-गंडई", "कोंडागांव", "कोरबा", "कोरिया", "महासमुंद",
    "मनेन्द्रगढ़-चिरमिरी-भरतपुर", "मोहला-मानपुर-अंबागढ़ चौकी", "मुंगेली", "नारायणपुर", "रायगढ़",
    "रायपुर", "राजनांदगांव", "सक्ती", "सारंगढ़-बिलाईगढ़", "सुकमा", "सूरजपुर", "सरगुजा",
]
DEPARTMENTS = [
    "कृषि विकास एवं किसान कल्याण", "वाणिज्य एवं उद्योग", "वाणिज्यिक कर", "खाद्य, नागरिक आपूर्ति",
    "स्कूल शिक्षा", "उच्च शिक्षा", "लोक स्वास्थ्य एवं परिवार कल्याण", "महिला एवं बाल विकास",
    "पंचायत एवं ग्रामीण विकास", "नगरीय प्रशासन एवं विकास", "लोक निर्माण", "जल संसाधन", "वन",
    "आदिम जाति तथा अनुसूचित जाति विकास", "राजस्व एवं आपदा प्रबंधन", "गृह (पुलिस)", "खेल एवं युवा कल्याण",
    "संस्कृति", "पर्यटन", "ऊर्जा", "खनिज साधन", "श्रम", "समाज कल्याण", "सहकारिता", "पशुधन विकास",
    "मछली पालन", "उद्यानिकी", "ग्रामोद्योग", "कौशल विकास", "इलेक्ट्रॉनिकी एवं सूचना प्रौद्योगिकी",
]
MENU = [
    ("/", "मुख्य पृष्ठ"), ("/news/state-news", "राज्य समाचार"), ("/news/district-news", "जिला समाचार"),
    ("/news/date-wise-news", "दिनांकवार समाचार"), ("/special-articles", "विशेष लेख"),
    ("/photo-gallery", "फोटो गैलरी"), ("/video-gallery", "वीडियो गैलरी"),
    ("/all-tender-list", "निविदा सूचना"), ("/contact-us", "संपर्क करें"),
]
COMMENT_NOTE = "The content of this field is kept private and will not be shown publicly."
FOOTER = "सर्वाधिकार सुरक्षित © जनसंपर्क विभाग, छत्तीसगढ़ शासन"
_PUNCT = re.compile(r"[\s\u2018\u2019\u201c\u201d'\"`:;,.!?|/\\()\[\]{}<>—–…।॥@#%&*+=~^$]+")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def paragraphs(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def load_corpus() -> tuple[list[dict], list[dict]]:
    """(article texts: dev rows and the seed note, chrome rows: every corpus row)."""
    def rows(name: str) -> list[dict]:
        with open(os.path.join(CORPUS, name), encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    dev = rows("dev.jsonl")
    chrome = list(dev)
    for name in sorted(os.listdir(CORPUS)):
        if name.endswith(".jsonl") and name != "dev.jsonl":
            chrome += rows(name)
    with open(os.path.join(CORPUS, "seed-article.txt"), encoding="utf-8") as fh:
        seed = fh.read().split("\n")
    # seed-article.txt: category, blank, headline, blank, the note, then the comment form.
    seed_body = "\n".join(seed[4:]).split("\nLeave a Reply")[0]
    articles = [
        {"title": r["title"], "paras": paragraphs(r["text"]), "label": r["label"], "lang": r.get("lang", "")}
        for r in dev
    ]
    articles.append({"title": seed[2].strip(), "paras": paragraphs(seed_body), "label": "positive", "lang": "hi"})
    articles = [a for a in articles if a["paras"]]
    random.Random("niryat-bench-order").shuffle(articles)
    return articles, chrome


ARTICLES, CHROME = load_corpus()
HEADLINES = [r["title"].strip() for r in CHROME if r.get("title", "").strip()]
TEASERS = [" ".join(paragraphs(r["text"]))[:220] for r in CHROME if r.get("text")]


def article_id(k: int) -> int:
    return FIRST_ID + k * ID_STEP


def when(k: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(article_id(k), IST)


def slug(title: str, words: int) -> str:
    return "-".join([w for w in _PUNCT.split(title) if w and w != "-"][:words]) or "news"


@functools.lru_cache(maxsize=None)
def quoted_slug(title: str, words: int) -> str:
    return urllib.parse.quote(slug(title, words), safe="-_.~")


def path(k: int, title: str, words: int = 4) -> str:
    return f"/post/{article_id(k)}/{quoted_slug(title, words)}"


def article_path(k: int) -> str:
    """Where article k is linked from the listing (and fetched by niryat and urlwatch)."""
    return path(k, ARTICLES[k % len(ARTICLES)]["title"], 2)


def fake_link(rng: random.Random) -> tuple[str, str]:
    """A headline linking to a /post/ page that is never served (as sidebars link everywhere)."""
    t = rng.choice(HEADLINES)
    return path(rng.randrange(-50_000, 0), t, 4), t


# ----------------------------------------------------------------------------- chrome parts

def inline_css(rng: random.Random, rules: int) -> str:
    blocks = ["region-header", "region-sidebar-second", "block-views", "view-content", "views-row",
              "field-name-body", "menu", "ticker-list", "footer-menu", "comment-form", "share-links"]
    props = ["color:#{:06x}", "margin:{}px 0", "padding:{}px {}px", "font-size:{}px", "line-height:1.{}",
             "border-bottom:1px solid #{:06x}", "background:#{:06x}", "width:{}%"]
    out = []
    for i in range(rules):
        sel = f".{rng.choice(blocks)} .{rng.choice(blocks)}-{i} a"
        decl = ";".join(
            p.format(*[rng.randrange(0, 0xFFFFFF) if "#" in p else rng.randrange(1, 40) for _ in range(p.count("{"))])
            for p in rng.sample(props, 3)
        )
        out.append(f"{sel}{{{decl}}}")
    return "<style type=\"text/css\" media=\"all\">\n" + "\n".join(out) + "\n</style>\n"


def drupal_settings(rng: random.Random, views: int) -> str:
    settings = {
        "basePath": "/",
        "pathPrefix": "",
        "ajaxPageState": {
            "theme": "dprcg",
            "theme_token": f"{rng.getrandbits(64):x}",
            "js": {f"sites/all/modules/contrib/m{i}/js/m{i}.js": 1 for i in range(rng.randrange(20, 60))},
            "css": {f"sites/all/modules/contrib/m{i}/css/m{i}.css": 1 for i in range(rng.randrange(20, 60))},
        },
        "views": {"ajax_path": "/views/ajax", "ajaxViews": {
            f"views_dom_id:{rng.getrandbits(64):x}": {
                "view_name": "latest_news", "view_display_id": f"block_{i}", "view_args": str(rng.randrange(1, 40)),
                "view_path": "node/" + str(rng.randrange(10_000, 999_999)), "pager_element": 0,
            } for i in range(views)
        }},
        "better_exposed_filters": {"views": {"district_news": {"displays": {"page": {"filters": {
            "district": {"required": False, "options": {f"d{i}": d for i, d in enumerate(DISTRICTS)}},
        }}}}}},
        "urlIsAjaxTrusted": {path(rng.randrange(-90_000, 0), rng.choice(HEADLINES), 3): True for _ in range(views)},
    }
    js = json.dumps(settings, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")
    return (
        '<script type="text/javascript">\n<!--//--><![CDATA[//><!--\n'
        f"jQuery.extend(Drupal.settings, {js});\n//--><!]]>\n</script>\n"
    )


GA = """<script async src="https://www.googletagmanager.com/gtag/js?id=G-DPRCG0001"></script>
<script>window.dataLayer = window.dataLayer || [];function gtag(){dataLayer.push(arguments);}gtag('js', new Date());gtag('config', 'G-DPRCG0001');
(function($){Drupal.behaviors.dprTicker={attach:function(c,s){$('.ticker-list',c).once('ticker',function(){var l=$(this),w=0;l.children().each(function(){w+=$(this).outerWidth(true);});l.css('width',w);setInterval(function(){l.animate({left:'-=1'},20);},20);});}};})(jQuery);</script>
"""


def head(rng: random.Random, title: str, url: str, published: str | None, kind: str, k: int) -> str:
    pub = f'<meta property="article:published_time" content="{esc(published)}" />\n' if published else ""
    ld = ""
    if published:
        ld = '<script type="application/ld+json">' + json.dumps({
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
            "datePublished": published, "mainEntityOfPage": url,
            "publisher": {"@type": "GovernmentOrganization", "name": SITE},
        }, ensure_ascii=False) + "</script>\n"
    return f"""<!DOCTYPE html>
<html lang="hi" dir="ltr" prefix="content: http://purl.org/rss/1.0/modules/content/ dc: http://purl.org/dc/terms/ og: http://ogp.me/ns# article: http://ogp.me/ns/article#">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<link rel="shortcut icon" href="{HOST}/sites/all/themes/dprcg/favicon.ico" type="image/vnd.microsoft.icon" />
<meta name="generator" content="Drupal 7 (http://drupal.org)" />
<link rel="canonical" href="{esc(url)}" />
<meta property="og:site_name" content="{esc(SITE)}" />
<meta property="og:type" content="{kind}" />
<meta property="og:url" content="{esc(url)}" />
<meta property="og:title" content="{esc(title)}" />
{pub}<title>{esc(title)} | {esc(SITE)}</title>
<link type="text/css" rel="stylesheet" href="{HOST}/sites/default/files/css/css_{k:x}.css" media="all" />
{inline_css(rng, rng.randrange(60, 160))}<script type="text/javascript" src="{HOST}/misc/jquery.js?v=1.4.4"></script>
<script type="text/javascript" src="{HOST}/misc/drupal.js?r8k2lq"></script>
{drupal_settings(rng, rng.randrange(8, 30))}{ld}</head>
"""


def header(rng: random.Random) -> str:
    menu = "\n".join(f'<li class="leaf"><a href="{h}" title="">{esc(t)}</a></li>' for h, t in MENU)
    districts = "\n".join(
        f'<li class="leaf"><a href="/district/{i}" title="{esc(d)} जिला समाचार">{esc(d)}</a></li>'
        for i, d in enumerate(DISTRICTS)
    )
    departments = "\n".join(
        f'<li class="leaf"><a href="/department/{i}">{esc(d)}</a></li>' for i, d in enumerate(DEPARTMENTS)
    )
    ticker = "\n".join(f'<li><a href="{h}">{esc(t)}</a></li>' for h, t in (fake_link(rng) for _ in range(8)))
    return f"""<div id="skip-link"><a href="#main-content" class="element-invisible element-focusable">मुख्य सामग्री पर जाएं</a></div>
<div id="page-wrapper"><div id="page">
<div id="top-bar"><div class="section clearfix">
<ul class="top-links"><li><a href="/screen-reader-access">स्क्रीन रीडर एक्सेस</a></li><li><a href="/en">English</a></li><li><a href="/sitemap">साइटमैप</a></li><li><a href="#" class="font-size-increase">A+</a></li><li><a href="#" class="font-size-decrease">A-</a></li></ul>
</div></div>
<header id="header" role="banner"><div class="section clearfix">
<a href="/" title="मुख्य पृष्ठ" rel="home" id="logo"><img src="{HOST}/sites/all/themes/dprcg/images/cg-logo.png" alt="छत्तीसगढ़ शासन" /></a>
<div id="name-and-slogan"><div id="site-name"><strong><a href="/" rel="home"><span>जनसंपर्क विभाग</span></a></strong></div><div id="site-slogan">छत्तीसगढ़ शासन</div></div>
<form action="/search/node" method="post" id="search-block-form" accept-charset="UTF-8"><div class="container-inline">
<label class="element-invisible" for="edit-search">खोजें</label><input title="खोजने के लिए शब्द लिखें" type="text" id="edit-search" name="search_block_form" value="" size="15" maxlength="128" class="form-text" />
<input type="submit" id="edit-submit" name="op" value="खोजें" class="form-submit" /></div></form>
</div></header>
<nav id="navigation" role="navigation"><div class="section"><h2 class="element-invisible">Main menu</h2>
<ul id="main-menu" class="menu links inline clearfix">
{menu}
<li class="expanded"><a href="/districts">जिले</a><ul class="menu sub-menu">
{districts}
</ul></li>
<li class="expanded last"><a href="/departments">विभाग</a><ul class="menu sub-menu">
{departments}
</ul></li>
</ul></div></nav>
<div id="breaking-news" class="breaking-news-ticker clearfix"><span class="ticker-title">ब्रेकिंग</span>
<div class="ticker-wrap"><ul class="ticker-list">
{ticker}
</ul></div></div>
"""


def news_row(rng: random.Random, i: int, teaser: bool) -> str:
    h, t = fake_link(rng)
    d = when(rng.randrange(-5000, 0)).strftime("%d/%m/%Y")
    extra = f'<div class="views-field views-field-body"><span class="field-content">{esc(rng.choice(TEASERS))}…</span></div>' if teaser else ""
    return (
        f'<div class="views-row views-row-{i + 1}"><div class="views-field views-field-title"><span class="field-content">'
        f'<a href="{h}">{esc(t)}</a></span></div><div class="views-field views-field-created">'
        f'<span class="field-content">{d}</span></div>{extra}</div>'
    )


def news_rows(rng: random.Random, n: int, teaser: bool) -> str:
    return "\n".join(news_row(rng, i, teaser) for i in range(n))


def sidebar(rng: random.Random, latest: str, popular: int) -> str:
    months = "\n".join(
        f'<li><a href="/news/archive/{y}{m:02d}">{m:02d}/{y}</a></li>' for y in range(2024, 2019, -1) for m in range(12, 0, -1)
    )
    return f"""<aside id="sidebar-second" class="column sidebar" role="complementary"><div class="section">
<div class="region region-sidebar-second">
<div id="block-views-latest-news-block" class="block block-views"><h2 class="block-title">ताज़ा खबरें</h2>
<div class="content"><div class="view view-latest-news view-id-latest_news view-display-id-block"><div class="view-content">
{latest}
</div><div class="more-link"><a href="/news/district-news">और खबरें</a></div></div></div></div>
<div id="block-views-popular-block" class="block block-views"><h2 class="block-title">लोकप्रिय खबरें</h2>
<div class="content"><div class="view view-popular"><div class="view-content">
{news_rows(rng, popular, teaser=False)}
</div></div></div></div>
<div id="block-block-9" class="block block-block"><h2 class="block-title">अभिलेखागार</h2><div class="content"><ul class="archive">
{months}
</ul></div></div>
<div id="block-block-7" class="block block-block"><h2 class="block-title">सोशल मीडिया</h2>
<div class="content"><ul class="social"><li><a href="https://www.facebook.com/DPRChhattisgarh">Facebook</a></li><li><a href="https://twitter.com/DPRChhattisgarh">Twitter</a></li><li><a href="https://www.youtube.com/@DPRChhattisgarh">YouTube</a></li></ul>
<a class="twitter-timeline" data-height="600" href="https://twitter.com/DPRChhattisgarh">Tweets by DPRChhattisgarh</a> <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script></div></div>
</div></div></aside>
"""


def footer(rng: random.Random) -> str:
    links = "\n".join(
        f'<li><a href="https://{d}">{esc(t)}</a></li>'
        for d, t in [("cg.gov.in", "छत्तीसगढ़ शासन"), ("india.gov.in", "भारत सरकार"), ("pib.gov.in", "पत्र सूचना कार्यालय"),
                     ("cgvidhansabha.gov.in", "छत्तीसगढ़ विधानसभा"), ("ceochhattisgarh.nic.in", "मुख्य निर्वाचन पदाधिकारी"),
                     ("cgstate.gov.in", "राज्य पोर्टल"), ("mygov.in", "MyGov")]
    )
    return f"""<footer id="footer" role="contentinfo"><div class="section">
<ul class="menu footer-menu"><li><a href="/website-policy">वेबसाइट नीति</a></li><li><a href="/disclaimer">अस्वीकरण</a></li><li><a href="/help">सहायता</a></li><li><a href="/feedback">प्रतिक्रिया</a></li></ul>
<ul class="menu important-links">
{links}
</ul>
<p class="copyright">{esc(FOOTER)}</p>
<p class="nic">वेबसाइट का निर्माण एवं होस्टिंग: चिप्स, छत्तीसगढ़ | आगंतुक संख्या: {rng.randrange(10**6, 10**8)}</p>
</div></footer>
</div></div>
<script type="text/javascript" src="{HOST}/sites/all/themes/dprcg/js/ticker.js?r8k2lq"></script>
{GA}</body>
</html>
"""


# ----------------------------------------------------------------------------- pages

def article_page(k: int) -> tuple[str, dict]:
    """Article k's HTML and its facts."""
    rng = random.Random(f"niryat-bench-page-{k}")
    art = ARTICLES[k % len(ARTICLES)]
    title = art["title"]
    t = when(k)
    url = HOST + article_path(k)
    body = "\n".join(f"<p>{esc(p)}</p>" for p in art["paras"])
    nid = 100_000 + k
    share = urllib.parse.quote(url, safe="")
    related = news_rows(rng, rng.randrange(4, 9), teaser=True)
    main = f"""<div id="main-wrapper" class="clearfix"><div id="main" class="clearfix">
<div id="breadcrumb"><h2 class="element-invisible">You are here</h2><div class="breadcrumb"><a href="/">मुख्य पृष्ठ</a> » <a href="/news/district-news">जिला समाचार</a></div></div>
<div id="content" class="column" role="main"><div class="section"><a id="main-content"></a>
<h1 class="title page-title" id="page-title">{esc(title)}</h1>
<div class="region region-content"><div id="block-system-main" class="block block-system"><div class="content">
<div id="node-{nid}" class="node node-article node-promoted clearfix" about="/post/{article_id(k)}" typeof="sioc:Item foaf:Document">
<div class="submitted"><span class="date-label">दिनांक :</span> <span class="date-display-single" property="dc:date" datatype="xsd:dateTime" content="{t.strftime('%Y-%m-%dT00:00:00+05:30')}">{t.strftime('%d/%m/%Y')}</span></div>
<div class="field field-name-field-image field-type-image field-label-hidden"><div class="field-items"><div class="field-item even"><img typeof="foaf:Image" src="{HOST}/public/uploads/posts/{article_id(k)}_news.jpg" width="640" height="360" alt="" /></div></div></div>
<div class="content">
<div class="field field-name-body field-type-text-with-summary field-label-hidden"><div class="field-items"><div class="field-item even" property="content:encoded">
{body}
</div></div></div>
</div>
<div class="share-links"><span class="share-title">शेयर करें:</span>
<a class="share-facebook" href="https://www.facebook.com/sharer/sharer.php?u={share}" target="_blank" rel="noopener">Facebook</a>
<a class="share-twitter" href="https://twitter.com/intent/tweet?url={share}" target="_blank" rel="noopener">Twitter</a>
<a class="share-whatsapp" href="https://api.whatsapp.com/send?text={share}" target="_blank" rel="noopener">WhatsApp</a>
<a class="print-page" href="/print/{article_id(k)}">प्रिंट करें</a></div>
<div class="related-news"><h2 class="block-title">संबंधित खबरें</h2><div class="view-content">
{related}
</div></div>
<div id="comments" class="comment-wrapper"><h2 class="title comment-form">टिप्पणी जोड़ें</h2>
<form class="comment-form" action="/comment/reply/{nid}" method="post" id="comment-form" accept-charset="UTF-8"><div>
<div class="form-item form-type-textfield form-item-name"><label for="edit-name">आपका नाम </label><input type="text" id="edit-name" name="name" value="" size="30" maxlength="60" class="form-text" /></div>
<div class="form-item form-type-textfield form-item-mail"><label for="edit-mail">E-mail <span class="form-required" title="This field is required.">*</span></label><input type="text" id="edit-mail" name="mail" value="" size="30" maxlength="64" class="form-text required" />
<div class="description">{esc(COMMENT_NOTE)}</div></div>
<div class="form-item form-type-textarea"><label for="edit-comment-body">Comment <span class="form-required">*</span></label><textarea class="text-full form-textarea required" id="edit-comment-body" name="comment_body[und][0][value]" cols="60" rows="5"></textarea></div>
<div class="form-actions form-wrapper"><input type="submit" name="op" value="Save" class="form-submit" /><input type="submit" name="op" value="Preview" class="form-submit" /></div>
</div></form></div>
</div>
</div></div></div>
</div></div>
"""
    target = rng.randrange(MIN_KB, MAX_KB + 1) * 1024
    top = head(rng, title, url, t.isoformat(), "article", k)
    top += f'<body class="html not-front not-logged-in one-sidebar sidebar-second page-node page-node-{nid} node-type-article i18n-hi">\n'
    top += header(rng)
    tail = footer(rng)
    # Fill the "latest news" sidebar with teaser rows until the page reaches its drawn size.
    side = sidebar(rng, "{LATEST}", rng.randrange(8, 16))
    page = top + main + side + "</div></div>\n" + tail
    size = len(page.encode("utf-8"))
    rows: list[str] = []
    while size < target or len(rows) < 10:
        rows.append(news_row(rng, len(rows), teaser=True))
        size += len(rows[-1].encode("utf-8")) + 1
    page = page.replace("{LATEST}", "\n".join(rows), 1)
    return page, {"bytes": size, "label": art["label"], "lang": art["lang"]}


def listing_page(ks: list[int]) -> str:
    """The district-news listing with articles `ks` (newest first), as one long page. Rows are
    compact (short titles, no teasers) so that 10,000 of them stay under niryat's 5 MiB limit."""
    rng = random.Random("niryat-bench-listing")
    rows = []
    for k in ks:
        art = ARTICLES[k % len(ARTICLES)]
        title = art["title"] if len(art["title"]) <= 60 else art["title"][:60].rsplit(" ", 1)[0] + "…"
        rows.append(f'<div class="views-row"><h3><a href="{article_path(k)}">{esc(title)}</a></h3></div>')
    url = HOST + "/news/district-news"
    page = head(rng, "जिला समाचार", url, None, "website", 0)
    page += '<body class="html not-front not-logged-in page-news page-news-district-news i18n-hi">\n'
    page += header(rng)
    page += f"""<div id="main-wrapper" class="clearfix"><div id="main" class="clearfix">
<div id="content" class="column" role="main"><div class="section"><a id="main-content"></a>
<h1 class="title page-title" id="page-title">जिला समाचार</h1>
<div class="view view-district-news view-id-district_news view-display-id-page">
<div class="view-content">
{chr(10).join(rows)}
</div></div>
</div></div>
</div></div>
"""
    page += footer(rng)
    return page


def stamp() -> str:
    """Fingerprint of this script and the corpus: cached pages are rebuilt when it changes."""
    h = hashlib.sha256()
    for f in [os.path.abspath(__file__)] + sorted(os.path.join(CORPUS, n) for n in os.listdir(CORPUS)):
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def write_article(k: int) -> None:
    page, _ = article_page(k)
    target = os.path.join(OUT_P, f"{article_id(k)}.html")
    with open(target + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(target + ".tmp", target)


OUT_P = ""


def main(argv: list[str]) -> int:
    global OUT_P
    if len(argv) != 3 or not argv[2].isdigit() or int(argv[2]) < 1:
        print(f"usage: {argv[0]} SITE_DIR N   (N >= 1 new articles)", file=sys.stderr)
        return 2
    out, n = argv[1], int(argv[2])
    OUT_P = os.path.join(out, "p")
    os.makedirs(OUT_P, exist_ok=True)
    mark = os.path.join(out, "stamp")
    current = stamp()
    if not os.path.exists(mark) or open(mark).read().strip() != current:
        for f in os.listdir(OUT_P):
            os.remove(os.path.join(OUT_P, f))
        with open(mark, "w") as fh:
            fh.write(current + "\n")
    missing = [k for k in range(n + 1) if not os.path.exists(os.path.join(OUT_P, f"{article_id(k)}.html"))]
    if missing:
        print(f"generating {len(missing)} article page(s) in {out} ...", file=sys.stderr)
        with multiprocessing.Pool(os.cpu_count() or 1) as pool:
            for _ in pool.imap_unordered(write_article, missing, chunksize=64):
                pass
    listings = {"listing-first.html": [0], f"listing-full-{n}.html": list(range(n, 0, -1)) + [0]}
    for name, ks in listings.items():
        page = listing_page(ks).encode("utf-8")
        if len(page) > MAX_LISTING:
            print(f"error: {name} is {len(page)} bytes, over niryat's 5 MiB body limit", file=sys.stderr)
            return 1
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(page)
    with open(os.path.join(out, f"urls-{n}.txt"), "w", encoding="utf-8") as fh:
        for k in range(1, n + 1):
            fh.write(article_path(k) + "\n")
    sizes = [os.path.getsize(os.path.join(OUT_P, f"{article_id(k)}.html")) for k in range(1, n + 1)]
    texts = [ARTICLES[k % len(ARTICLES)] for k in range(1, n + 1)]
    count = lambda key: dict(sorted(collections.Counter(a[key] for a in texts).items()))
    stats = {
        "articles": n,
        "distinct_texts": len({id(a) for a in texts}),
        "page_kb_min": round(min(sizes) / 1024, 1),
        "page_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "page_kb_max": round(max(sizes) / 1024, 1),
        "total_mb": round(sum(sizes) / 1024 / 1024, 1),
        "listing_kb": round(os.path.getsize(os.path.join(out, f"listing-full-{n}.html")) / 1024, 1),
        "labels": count("label"),
        "langs": count("lang"),
    }
    with open(os.path.join(out, f"stats-{n}.json"), "w", encoding="utf-8") as fh:
        json.dump(stats, fh, sort_keys=True)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
