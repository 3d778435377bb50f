"""HTML of the replica's pages: old-CMS and new-CMS articles, listings, the home page, 404."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape

from tests.replica.dataset import (
    CATEGORIES,
    CHANNELS,
    IMAGE_ROOT,
    VN,
    Dataset,
    Meta,
    at_minute,
    iso,
    stable_hash,
)

PAGE_SIZE = 20
NO_IMAGE = f"{IMAGE_ROOT}/no-image.jpg"
LICENSE_FROM = datetime(2022, 3, 17, tzinfo=VN)
LICENSE = "Giấy phép số: 136/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 17/3/2022."
# Who signed the paper at a given time; the footer shows the editors at fetch time.
EDITORS = (
    (
        datetime(2025, 4, 15, tzinfo=VN),
        "Hoàng Thị Hoài Phương",
        "Trần Vân Anh, Nguyễn Thị Thu Thủy",
    ),
    (datetime(2011, 1, 1, tzinfo=VN), "Phạm Văn Trường", "Trần Vân Anh, Nguyễn Thị Thu Thủy"),
)


def e(value: str) -> str:
    """Return ``value`` escaped for HTML text and attribute values."""
    return escape(value, quote=True)


def listing_time(meta: Meta) -> str:
    """Return a listing item's true 24-hour time line."""
    return f"Cập nhật lúc: {meta.published:%H:%M |%d/%m/%Y}"


def masthead(now: datetime, with_license: bool) -> list[str]:
    """Return the footer lines, with the editors in office at ``now``."""
    chief, deputies = next((c, d) for since, c, d in EDITORS if now >= since)
    lines = ["BÁO NAM ĐỊNH ĐIỆN TỬ"] + ([LICENSE] if with_license else [])
    return lines + [
        f"Tổng biên tập: {chief}",
        f"Phó Tổng biên tập: {deputies}",
        "Tòa soạn: Số 68 Trần Phú, TP Nam Định, tỉnh Nam Định",
        "Điện thoại: 0228.3849386; Email: toasoanbnd@gmail.com",
    ]


def section_path(section: str) -> str:
    """Return the listing path of a channel id or category slug."""
    return f"/channel/{section}/" if section in CHANNELS else f"/{section}/"


class Renderer:
    """Turns dataset records into pages for one replica address and one clock reading."""

    def __init__(self, dataset: Dataset, base_url: str, alias_url: str) -> None:
        self.ds = dataset
        self.base_url = base_url
        self.alias_url = alias_url

    def href(self, meta: Meta, where: str) -> str:
        """Return a link to ``meta`` in one of the URL variants the site mixes, stable per place."""
        path = self.ds.path(meta)
        variant = stable_hash(self.ds.seed, meta.id, where) % 10
        if variant < 5:
            return path
        if variant < 7:
            return path[:-1]
        if variant < 8:
            return path + "index.htm"
        return self.alias_url + path

    def image(self, meta: Meta) -> str:
        """Return the root-relative thumbnail of ``meta`` (its first photo, or the placeholder)."""
        photos = self.ds.body(meta.index).photos
        return photos[0].src if photos else NO_IMAGE

    # --- chrome -------------------------------------------------------------------------------

    def _head(self, title: str, extra: str) -> str:
        return (
            '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(title)}</title>\n{extra}</head>\n"
        )

    def _old_header(self) -> str:
        items = "".join(
            f'<li><a href="/channel/{cid}/">{e(name)}</a></li>' for cid, name in CHANNELS.items()
        )
        # Empty menu items and an unexpanded template call: residue seen on the real site.
        return (
            '<div class="header"><div class="logo"><a href="/">'
            f'<img src="{IMAGE_ROOT}/logo.jpg" alt="Báo Nam Định"></a></div>\n'
            f'<ul class="menu"><li><a href="/">Trang chủ</a></li>{items}'
            '<li class="empty"></li></ul>\n<div class="sub-menu">\n, , ,.\n</div></div>\n'
        )

    def _new_header(self) -> str:
        links = "".join(
            f'<li><a href="/{slug}/">{e(name)}</a></li>' for slug, name in CATEGORIES.items()
        )
        return (
            '<header class="site-header"><a class="logo" href="/">Báo Nam Định</a>\n'
            f'<nav class="main-nav"><ul><li><a href="/">Trang chủ</a></li>{links}</ul></nav>'
            "</header>\n"
        )

    @staticmethod
    def _footer(now: datetime, with_license: bool, new: bool) -> str:
        lines = "".join(f"<p>{e(line)}</p>\n" for line in masthead(now, with_license))
        if new:
            return f'<footer class="site-footer">\n{lines}</footer>\n</body>\n</html>\n'
        return f'<div class="footer">\n{lines}</div>\n</body>\n</html>\n'

    def _links(self, metas: list[Meta], where: str) -> str:
        return "".join(
            f'<li><a href="{e(self.href(m, where))}">{e(self.ds.head(m.index).title)}</a></li>'
            for m in metas
        )

    # --- articles -----------------------------------------------------------------------------

    def article(self, meta: Meta, now: datetime, now_minute: int) -> str:
        """Return the article page of ``meta`` as served at ``now``, in its era's template."""
        template = self.ds.template(meta)
        if template == "docbao-2019":
            return self._docbao_article(meta, now, now_minute)
        if template == "old-cms":
            return self._old_article(meta, now, now_minute)
        return self._new_article(meta, now, now_minute)

    def _paragraphs(self, meta: Meta, now_minute: int, new: bool, docbao: bool = False) -> str:
        body = self.ds.body(meta.index)
        paragraphs = body.edited if meta.is_edited(now_minute) and body.edited else body.paragraphs
        out = []
        last = len(paragraphs) - 1
        for i, para in enumerate(paragraphs):
            out.append(f"<p>{e(para)}{'./.' if i == last else ''}</p>\n")
            for photo in body.photos:
                if photo.after != i:
                    continue
                if new:
                    out.append(
                        f'<figure class="image"><img src="{photo.src}" alt="{e(photo.alt)}">'
                        f"<figcaption>{e(photo.caption)}</figcaption></figure>\n"
                    )
                elif docbao:
                    # The 2019 markup: table.image.center, the caption in tr[2]/td/em.
                    out.append(
                        '<table class="image center"><tbody><tr><td>'
                        f'<img src="{photo.src}" alt="{e(photo.alt)}" title="{e(photo.alt)}">'
                        f"</td></tr><tr><td><em>{e(photo.caption)}</em></td></tr></tbody>"
                        "</table>\n"
                    )
                else:
                    out.append(
                        '<table class="image" align="center"><tr><td>'
                        f'<img src="{photo.src}" alt="{e(photo.alt)}" title="{e(photo.alt)}">'
                        f'</td></tr><tr><td class="caption">{e(photo.caption)}</td></tr></table>\n'
                    )
        return "".join(out)

    def _og(self, meta: Meta) -> str:
        head, body = self.ds.head(meta.index), self.ds.body(meta.index)
        canonical = self.base_url + self.ds.path(meta)
        return (
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{e(head.title)}">\n'
            f'<meta property="og:description" content="{e(body.lead)}">\n'
            f'<meta property="og:url" content="{e(canonical)}">\n'
            f'<meta property="og:image" content="{self.base_url}{self.image(meta)}">\n'
            f'<link rel="canonical" href="{e(canonical)}">\n'
        )

    def _old_article(self, meta: Meta, now: datetime, now_minute: int) -> str:
        head, body = self.ds.head(meta.index), self.ds.body(meta.index)
        name = CHANNELS[meta.section]
        kicker = f'<p class="sub-title">{e(head.kicker)}</p>\n' if head.kicker else ""
        author_top = byline = ""
        if body.leader_title:
            author_top = (
                f'<div class="author-top"><strong>{e(body.authors[0])}</strong><br>'
                f"{e(body.leader_title)}</div>\n"
            )
        elif body.byline:
            byline = f'<p style="text-align:right"><strong>{e(body.byline)}</strong></p>\n'
        related = self.ds.related(meta, now_minute)
        return (
            self._head(f"{head.title} - Báo Nam Định", self._og(meta))
            + "<body>\n"
            + self._old_header()
            + '<div class="main">\n<div class="col-content">\n'
            f'<div class="breadcrumb"><a href="/">Trang chủ</a> » '
            f'<a href="/channel/{meta.section}/">{e(name)}</a></div>\n'
            f'{kicker}<h2 id="title" class="title">{e(head.title)}</h2>\n'
            f'<div class="page-detail-meta"><span class="date">{e(self.ds.date_line(meta))}'
            f"</span></div>\n{author_top}"
            f'<div class="sapo">{e(body.lead)}</div>\n'
            f'<div class="detail-content">\n{self._paragraphs(meta, now_minute, False)}{byline}'
            "</div>\n"
            + (
                f'<div class="related"><h3>Tin liên quan</h3><ul>'
                f"{self._links(related, 'related')}</ul></div>\n"
                if related
                else ""
            )
            + "</div>\n"
            + self._right_column(now_minute)
            + "</div>\n"
            + self._footer(now, meta.published >= LICENSE_FROM, new=False)
        )

    def _docbao_article(self, meta: Meta, now: datetime, now_minute: int) -> str:
        """The live site's 2019 markup as the public "docbao" crawler configuration describes
        it: the body is #content, whose first <p> is the sapo; the date line is the <span> of
        the element whose class is exactly "date"; no OpenGraph, no JSON-LD, no kicker line."""
        head, body = self.ds.head(meta.index), self.ds.body(meta.index)
        byline = (f'<p style="text-align:right"><strong>{e(body.byline)}</strong></p>\n'
                  if body.byline else "")
        related = self.ds.related(meta, now_minute)
        items = "".join(
            f'<li><a href="/channel/{cid}/">{e(title)}</a></li>' for cid, title in CHANNELS.items()
        )
        return (
            self._head(f"{head.title} - Báo Nam Định", "")
            + "<body>\n"
            + '<div id="header"><a class="logo" href="/"><img src="/common/v1/image/'
            'logo-namdinh.png" alt="Báo Nam Định điện tử"></a>\n'
            f'<ul class="menu"><li><a href="/">Trang chủ</a></li>{items}</ul></div>\n'
            + '<div id="main">\n<div class="detail">\n'
            f'<h1 class="title">{e(head.title)}</h1>\n'
            f'<div class="date"><span>{e(self.ds.date_line(meta))}</span></div>\n'
            f'<div id="content">\n<p>{e(body.lead)}</p>\n'
            f"{self._paragraphs(meta, now_minute, False, docbao=True)}{byline}</div>\n"
            + (
                f'<div class="related"><h3>Tin liên quan</h3><ul>'
                f"{self._links(related, 'related')}</ul></div>\n"
                if related
                else ""
            )
            + "</div>\n"
            + self._right_column(now_minute)
            + "</div>\n"
            + self._footer(now, meta.published >= LICENSE_FROM, new=False)
        )

    def _right_column(self, now_minute: int) -> str:
        newest = self.ds.newest(now_minute, 6)
        return (
            '<div class="col-right">\n<div class="most-read"><h3>Đọc nhiều</h3><ul>'
            f"{self._links(newest, 'most-read')}</ul></div>\n"
            '<div class="box-links">[links()]</div>\n</div>\n'
        )

    def _new_article(self, meta: Meta, now: datetime, now_minute: int) -> str:
        head, body = self.ds.head(meta.index), self.ds.body(meta.index)
        pub = iso(meta.published)
        modified = (
            iso(at_minute(meta.edited)) if meta.is_edited(now_minute) and meta.edited else pub
        )
        images = [self.base_url + p.src for p in body.photos] or [self.base_url + NO_IMAGE]
        author: dict[str, str] = (
            {"@type": "Organization", "name": body.source}
            if body.source
            else {"@type": "Person", "name": " - ".join(body.authors)}
        )
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": head.title,
            "description": body.lead,
            "datePublished": pub,
            "dateModified": modified,
            "author": author,
            "image": images,
            "articleSection": CATEGORIES[meta.section],
            "mainEntityOfPage": self.base_url + self.ds.path(meta),
        }
        ld_json = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
        extra = (
            self._og(meta)
            + f'<meta property="article:published_time" content="{pub}">\n'
            + f'<meta property="article:modified_time" content="{modified}">\n'
            + f'<script type="application/ld+json">{ld_json}</script>\n'
        )
        kicker = f'<div class="article-kicker">{e(head.kicker)}</div>\n' if head.kicker else ""
        byline = f'<p class="author">{e(body.byline)}</p>\n' if body.byline else ""
        related = self.ds.related(meta, now_minute)
        return (
            self._head(f"{head.title} - Báo Nam Định", extra)
            + "<body>\n"
            + self._new_header()
            + '<main>\n<article class="article-detail">\n'
            + self._new_breadcrumb(meta.section)
            + f'{kicker}<h1 class="article-title">{e(head.title)}</h1>\n'
            f'<div class="article-meta"><span class="article-time">{e(self.ds.date_line(meta))}'
            "</span></div>\n"
            f'<div class="article-sapo">{e(body.lead)}</div>\n'
            f'<div id="content_detail" class="article-content">\n'
            f"{self._paragraphs(meta, now_minute, True)}{byline}</div>\n</article>\n"
            + (
                f'<div class="box-related"><h3>Tin liên quan</h3><ul>'
                f"{self._links(related, 'related')}</ul></div>\n"
                if related
                else ""
            )
            + '<div class="reader-form"><p>Thông tin bạn đọc</p>'
            '<input name="name" placeholder="Họ và tên"> <input name="email" placeholder="Email">'
            " <button>Đóng</button> <button>Lưu thông tin</button></div>\n</main>\n"
            + self._footer(now, True, new=True)
        )

    @staticmethod
    def _new_breadcrumb(section: str) -> str:
        """The new CMS's breadcrumb: home, each level of the category (a two-level category's
        parent by its slug's name), the category's name last."""
        crumbs = ['<li><a href="/">Trang chủ</a></li>']
        if "/" in section:
            parent = section.split("/")[0]
            crumbs.append(f'<li><a href="/{parent}/">{e(parent.capitalize())}</a></li>')
        crumbs.append(f'<li><a href="/{section}/">{e(CATEGORIES[section])}</a></li>')
        return f'<ul class="breadcrumb">{"".join(crumbs)}</ul>\n'

    # --- listings and home --------------------------------------------------------------------

    def _item(self, meta: Meta, where: str, cls: str = "item") -> str:
        link = e(self.href(meta, where))
        title = e(self.ds.head(meta.index).title)
        return (
            f'<li class="{cls}"><a class="avatar" href="{link}"><img src="{self.image(meta)}" '
            f'alt="{title}"></a><h3 class="title"><a href="{link}">{title}</a></h3>'
            f'<p class="time">{listing_time(meta)}</p></li>\n'
        )

    @staticmethod
    def _paging(path: str, page: int, pages: int) -> str:
        def url(n: int) -> str:
            return path if n == 1 else f"{path}?trang={n}"

        links = []
        if page > 1:
            links.append(f'<a href="{url(page - 1)}" rel="prev">Trang trước</a>')
        shown = sorted({1, pages, *range(max(1, page - 3), min(pages, page + 3) + 1)})
        for n in shown:
            if n == page:
                links.append(f'<span class="current">{n}</span>')
            else:
                links.append(f'<a href="{url(n)}">{n}</a>')
        if page < pages:
            links.append(f'<a href="{url(page + 1)}" rel="next">Trang sau</a>')
        return '<div class="paging">' + " ".join(links) + "</div>\n"

    def listing(self, section: str, page: int, metas: list[Meta], now: datetime) -> str:
        """Return page ``page`` (1-based) of a section listing holding ``metas`` (newest first)."""
        path = section_path(section)
        pages = max(1, -(-len(metas) // PAGE_SIZE))
        chunk = metas[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        where = f"listing:{section}:{page}"
        rels = ""
        if page > 1:
            rels += (
                f'<link rel="prev" href="{path if page == 2 else f"{path}?trang={page - 1}"}">\n'
            )
        if page < pages:
            rels += f'<link rel="next" href="{path}?trang={page + 1}">\n'
        canonical = self.base_url + (path if page == 1 else f"{path}?trang={page}")
        old = section in CHANNELS
        name = CHANNELS[section] if old else CATEGORIES[section]
        title = f"{name} - Báo Nam Định" + (f" - Trang {page}" if page > 1 else "")
        head = self._head(title, f'<link rel="canonical" href="{canonical}">\n{rels}')
        first = ""
        if page == 1 and chunk:
            first = f'<ul class="newsfirst">\n{self._item(chunk[0], where, "item first")}</ul>\n'
            chunk = chunk[1:]
        items = "".join(self._item(m, where) for m in chunk)
        paging = self._paging(path, page, pages)
        listing = (
            f'<h1 class="cate-title">{e(name)}</h1>\n{first}'
            f'<div class="list-full-1"><ul class="items-next">\n{items}</ul></div>\n{paging}'
        )
        if old:
            return (
                head
                + "<body>\n"
                + self._old_header()
                + f'<div class="main">\n<div class="col-content">\n{listing}</div>\n</div>\n'
                + self._footer(now, now >= LICENSE_FROM, new=False)
            )
        return (
            head
            + "<body>\n"
            + self._new_header()
            + f'<main class="list-news">\n{listing}</main>\n'
            + self._footer(now, now >= LICENSE_FROM, new=True)
        )

    def home(self, now: datetime, now_minute: int) -> str:
        """Return the home page: every listing and the 20 newest articles at ``now``."""
        sections = "".join(
            f'<li><a href="{section_path(s)}">{e(name)}</a></li>'
            for s, name in (*CHANNELS.items(), *CATEGORIES.items())
        )
        items = "".join(self._item(m, "home") for m in self.ds.newest(now_minute, PAGE_SIZE))
        return (
            self._head(
                "Báo Nam Định - Tin tức Nam Định",
                f'<link rel="canonical" href="{self.base_url}/">\n',
            )
            + "<body>\n"
            + self._new_header()
            + f'<main class="home">\n<ul class="sections">{sections}</ul>\n'
            + '<section class="latest"><h2>Tin mới</h2>'
            + f'<ul class="items-next">\n{items}</ul></section>\n</main>\n'
            + self._footer(now, now >= LICENSE_FROM, new=True)
        )

    def not_found(self, now: datetime) -> str:
        """Return the 404 page."""
        return (
            self._head("Không tìm thấy trang - Báo Nam Định", "")
            + "<body>\n"
            + self._new_header()
            + '<main class="not-found"><h1>Không tìm thấy trang</h1>'
            "<p>Trang bạn tìm không tồn tại hoặc đã bị xóa.</p>"
            '<a href="/">Về trang chủ</a></main>\n'
            + self._footer(now, now >= LICENSE_FROM, new=True)
        )


def robots_txt(crawl_delay: float, sitemap_url: str | None = None) -> str:
    """Return robots.txt with ``crawl_delay`` seconds, a disallowed search path, and the sitemap."""
    delay = f"{crawl_delay:g}"
    text = f"User-agent: *\nCrawl-delay: {delay}\nDisallow: /search/\nDisallow: /admin/\n"
    return text + (f"\nSitemap: {sitemap_url}\n" if sitemap_url else "")


def last_changed(meta: Meta, now_minute: int) -> datetime:
    """Return when an article's page last changed, as seen at ``now_minute`` (edit or publication)."""
    return at_minute(meta.edited if meta.is_edited(now_minute) and meta.edited else meta.minute)


def sitemap_index(base_url: str, months: dict[str, datetime]) -> str:
    """Return the sitemap index: one sitemap per month (``/sitemaps/YYYY-MM.xml``), with lastmod."""
    items = "".join(
        f"<sitemap><loc>{base_url}/sitemaps/{month}.xml</loc>"
        f"<lastmod>{iso(lastmod)}</lastmod></sitemap>\n"
        for month, lastmod in sorted(months.items())
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{items}</sitemapindex>\n"
    )


def sitemap_month(dataset: Dataset, base_url: str, metas: list[Meta], now_minute: int) -> str:
    """Return one month's sitemap: each article's canonical URL and when it last changed."""
    items = "".join(
        f"<url><loc>{e(base_url + dataset.canonical_path(m))}</loc>"
        f"<lastmod>{iso(last_changed(m, now_minute))}</lastmod></url>\n"
        for m in metas
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{items}</urlset>\n"
    )


def rss_feed(dataset: Dataset, base_url: str, metas: list[Meta]) -> str:
    """Return an RSS 2.0 feed of ``metas`` (the newest articles), with RFC 822 publication dates."""
    items = "".join(
        f"<item><title>{e(dataset.head(m.index).title)}</title>"
        f"<link>{e(base_url + dataset.path(m))}</link>"
        f"<pubDate>{m.published:%a, %d %b %Y %H:%M:%S %z}</pubDate></item>\n"
        for m in metas
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>Báo Nam Định</title><link>{base_url}/</link>\n{items}</channel></rss>\n"
    )


def tiny_jpeg() -> bytes:
    """Return a valid 1x1 grey baseline JPEG."""
    sof = bytes.fromhex("ffc0000b080001000101011100")
    dht_dc = bytes.fromhex("ffc4001400" + "01" + "00" * 15 + "00")
    dht_ac = bytes.fromhex("ffc4001410" + "01" + "00" * 15 + "00")
    sos = bytes.fromhex("ffda000801010000" + "3f00")
    # One DC code "0" (difference 0) and the end-of-block code "0", padded with ones.
    scan = bytes([0x3F])
    dqt = bytes.fromhex("ffdb004300") + bytes([1] * 64)
    return b"\xff\xd8" + dqt + sof + dht_dc + dht_ac + sos + scan + b"\xff\xd9"
