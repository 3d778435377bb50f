"""The replica's dataset: every article's metadata built eagerly from (seed, N), its text lazily."""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from tests.replica import text as T

VN = timezone(timedelta(hours=7))
START = datetime(2011, 1, 1, tzinfo=VN)
END = datetime(2025, 6, 30, 23, 59, tzinfo=VN)
RECENT_FROM = datetime(2025, 6, 21, tzinfo=VN)
NEW_CMS_FROM = datetime(2023, 1, 1, tzinfo=VN)
# Before this date some old-CMS pages use the older "Cập nhật lúc..." template.
OLDER_TEMPLATE_BEFORE = datetime(2016, 1, 1, tzinfo=VN)
IMAGE_ROOT = "/file/e7837c02816d130b0181a995d7ad7e96"
# Old-CMS articles of these years (first and last, included) are served in the live site's real
# 2019 markup (docs/site-notes.md, "docbao"), so a crawl meets several templates over time.
# Leader articles (name at the top) keep the other old-CMS template: that markup shows no place
# for a name above the sapo.
DOCBAO_YEARS = (2017, 2019)
TEMPLATES = ("old-cms", "docbao-2019", "new-cms")

CHANNELS = {
    "5083": "Thời sự", "5084": "Kinh tế", "5087": "Xã hội", "5090": "Văn hóa",
    "5091": "Thể thao", "5093": "Pháp luật", "5095": "Nông nghiệp - Nông thôn", "5098": "Giáo dục",
}  # fmt: skip
CATEGORIES = {
    "chinh-tri": "Chính trị", "kinh-te": "Kinh tế", "xa-hoi": "Xã hội",
    "van-hoa-nghe-thuat": "Văn hóa - Nghệ thuật", "the-thao": "Thể thao",
    "phap-luat": "Pháp luật", "multimedia/emagazine": "eMagazine",
}  # fmt: skip
# Every section's key in both CMS generations (a record's section_key), written out here rather
# than computed, so the truth does not lean on the code it checks: an old channel whose name the
# new CMS also prints is that category's slug; the others, the slug of their own name.
SECTION_KEYS = {
    "5083": "thoi-su", "5084": "kinh-te", "5087": "xa-hoi", "5090": "van-hoa",
    "5091": "the-thao", "5093": "phap-luat", "5095": "nong-nghiep-nong-thon", "5098": "giao-duc",
    **{slug: slug for slug in CATEGORIES},
}  # fmt: skip
_SECTION_TOPICS = {
    "5083": "politics", "5084": "agri", "5087": "politics", "5090": "culture", "5091": "sport",
    "5093": "politics", "5095": "agri", "5098": "culture", "chinh-tri": "politics",
    "kinh-te": "agri", "xa-hoi": "politics", "van-hoa-nghe-thuat": "culture",
    "the-thao": "sport", "phap-luat": "politics", "multimedia/emagazine": "culture",
}  # fmt: skip
# Old numeric ids against time: a counter shared with sister papers until 2015 (about 6,800
# ids a month), then Nam Định's own at about 18 a day (2,516,000 in 2017-02, 2,550,000 in 2022-03).
_ID_ANCHORS = (
    (datetime(2011, 1, 1, tzinfo=VN), 2_080_000),
    (datetime(2016, 1, 1, tzinfo=VN), 2_488_000),
    (datetime(2017, 2, 1, tzinfo=VN), 2_516_000),
    (datetime(2022, 4, 1, tzinfo=VN), 2_550_000),
    (datetime(2023, 1, 1, tzinfo=VN), 2_554_700),
)


def to_minute(moment: datetime) -> int:
    """Return the whole minutes from 2011-01-01 00:00 (Vietnam time) to ``moment``."""
    return int((moment - START).total_seconds() // 60)


def at_minute(minute: int) -> datetime:
    """Return the Vietnam-time datetime ``minute`` minutes after 2011-01-01 00:00."""
    return START + timedelta(minutes=minute)


def iso(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 with seconds and its UTC offset."""
    return moment.isoformat(timespec="seconds")


def stable_hash(*parts: object) -> int:
    """Return a 64-bit hash of ``parts`` that is the same in every process (unlike hash())."""
    data = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _base_id(minute: int) -> int:
    for (t0, i0), (t1, i1) in zip(_ID_ANCHORS, _ID_ANCHORS[1:], strict=False):
        m0, m1 = to_minute(t0), to_minute(t1)
        if minute < m1:
            return i0 + (i1 - i0) * (minute - m0) // (m1 - m0)
    return _ID_ANCHORS[-1][1]


def _minute_of_day(rng: random.Random) -> int:
    return rng.randrange(5 * 60 + 30, 22 * 60 + 45)


@dataclass(slots=True)
class Meta:
    """What is fixed about one article without generating its text."""

    index: int
    id: str
    cms: str  # "old" or "new"
    section: str  # channel id or category slug
    minute: int  # publication, minutes after START
    edited: int | None  # minute from which the edited text is served
    deleted: int | None  # minute from which the article is gone
    nfd: bool  # served in decomposed Unicode
    leader: bool  # written by a provincial leader: name at the top, no byline
    older_template: bool  # "Cập nhật lúc..." date line instead of the buggy hh:MM form

    @property
    def published(self) -> datetime:
        """The true publication time."""
        return at_minute(self.minute)

    @property
    def month(self) -> str:
        """YYYYMM of publication, as in the URL."""
        return f"{self.published:%Y%m}"

    def exists(self, now_minute: int) -> bool:
        """True when the article is published and not yet deleted at ``now_minute``."""
        return self.minute <= now_minute and (self.deleted is None or self.deleted > now_minute)

    def is_edited(self, now_minute: int) -> bool:
        """True when the edited text is what the page shows at ``now_minute``."""
        return self.edited is not None and self.edited <= now_minute


@dataclass(frozen=True)
class Photo:
    """One photo in an article body, after paragraph ``after``."""

    src: str  # root-relative
    alt: str
    caption: str
    after: int


@dataclass(frozen=True)
class Head:
    """What listings show of an article: its title and slug (and the kicker)."""

    title: str
    slug: str  # as the site prints it (Title-Cased in 2011-2012)
    kicker: str | None


@dataclass(frozen=True)
class Body:
    """An article's text; ``paragraphs`` exclude the end mark, ``edited`` is the later version."""

    lead: str
    paragraphs: tuple[str, ...]
    edited: tuple[str, ...] | None
    photos: tuple[Photo, ...]
    byline: str | None
    authors: tuple[str, ...]
    source: str | None
    leader_title: str | None


def _pick(rng: random.Random, pool: list[int], k: int, taken: set[int]) -> list[int]:
    free = [i for i in pool if i not in taken]
    chosen = rng.sample(free, min(k, len(free)))
    taken.update(chosen)
    return chosen


class Dataset:
    """All articles of one replica: metadata for N articles, fixed by (seed, N) alone."""

    def __init__(self, articles: int, seed: int, collisions: int = 0) -> None:
        if articles < 1:
            raise ValueError("a replica needs at least one article")
        self.seed = seed
        rng = random.Random(f"baonamdinh-replica:{seed}")
        n_recent = round(articles * 0.05)
        span_days = (RECENT_FROM - START).days
        stamps = [
            rng.randrange(span_days) * 1440 + _minute_of_day(rng)
            for _ in range(articles - n_recent)
        ]
        recent0 = to_minute(RECENT_FROM)
        # Spread evenly over the last ten days so that every "next night" finds new articles.
        stamps += [recent0 + (i % 10) * 1440 + _minute_of_day(rng) for i in range(n_recent)]
        new0 = to_minute(NEW_CMS_FROM)
        for i, minute in enumerate(stamps):
            moment = at_minute(minute)
            # New-CMS times are true 24-hour times; never let one look like the buggy hh:MM form.
            if minute >= new0 and moment.hour <= 12 and moment.minute == moment.month:
                stamps[i] = minute + 1
        stamps.sort()

        older0 = to_minute(OLDER_TEMPLATE_BEFORE)
        self.metas: list[Meta] = []
        last_id = 0
        hexes: set[str] = set()
        for index, minute in enumerate(stamps):
            if minute < new0:
                jitter = rng.randrange(3000) if minute < older0 else rng.randrange(8)
                last_id = max(last_id + 1, _base_id(minute) + jitter)
                ident, cms, section = str(last_id), "old", rng.choice(tuple(CHANNELS))
            else:
                ident = f"{rng.getrandbits(28):07x}"
                while ident in hexes:
                    ident = f"{rng.getrandbits(28):07x}"
                hexes.add(ident)
                cms, section = "new", rng.choice(tuple(CATEGORIES))
            older = minute < older0 and rng.random() < 0.4
            self.metas.append(
                Meta(index, ident, cms, section, minute, None, None, False, False, older)
            )

        n = articles
        for i in rng.sample(range(n), max(1, round(n * 0.02))):
            self.metas[i].nfd = True
        old = [m.index for m in self.metas if m.cms == "old"]
        for i in rng.sample(old, min(len(old), max(1, round(len(old) * 0.03)))):
            self.metas[i].leader = True
        self._schedule_changes(rng, stamps)
        if collisions:
            self._collide(collisions)

        # The two CMS generations number their articles independently: an old-CMS number and a
        # new-CMS 7-hex id that is all digits can be the same string (36 pairs among 250,000
        # articles of seed 1). So an article is (cms, id); by_id keeps the last of each id.
        self.by_key = {(m.cms, m.id): m for m in self.metas}
        self.by_id = {m.id: m for m in self.metas}
        self.by_section: dict[str, list[Meta]] = {s: [] for s in (*CHANNELS, *CATEGORIES)}
        for meta in self.metas:
            self.by_section[meta.section].append(meta)
        self._section_minutes = {s: [m.minute for m in ms] for s, ms in self.by_section.items()}
        self._minutes = [m.minute for m in self.metas]
        # Bounded: listings and related links ask for heads again and again, but a replica of
        # 250,000 articles would otherwise keep every one it ever rendered.
        self.head = lru_cache(maxsize=65536)(self._head)
        self.body = lru_cache(maxsize=4096)(self._body)

    def _schedule_changes(self, rng: random.Random, stamps: list[int]) -> None:
        """Mark about 2% of articles edited and 1% deleted; half of each within the last days."""
        n, end = len(stamps), to_minute(END)
        eligible = [i for i in range(n) if stamps[i] < end - 1440]
        june = to_minute(datetime(2025, 6, 1, tzinfo=VN))
        recent = [i for i in eligible if stamps[i] >= june]
        recent0 = to_minute(RECENT_FROM)
        taken: set[int] = set()
        for share, field, max_days in ((0.02, "edited", 20), (0.01, "deleted", 90)):
            k = max(1, round(n * share))
            late = _pick(rng, recent, k // 2, taken)
            for i in late + _pick(rng, eligible, k - len(late), taken):
                pub = stamps[i]
                if i in late:
                    at = rng.randrange(max(pub + 360, recent0), end)
                else:
                    at = min(end, pub + rng.randrange(1440, max_days * 1440))
                setattr(self.metas[i], field, at)

    def _collide(self, count: int) -> None:
        """Give ``count`` new-CMS articles the id of an old-CMS one, as chance does at 250,000
        articles: the pairs a crawler keying on the id alone cannot tell apart. Its own random
        stream, so the rest of the dataset is the same as without."""
        rng = random.Random(f"baonamdinh-replica-collisions:{self.seed}")
        olds = [m for m in self.metas if m.cms == "old" and len(m.id) == 7]
        news = [m for m in self.metas if m.cms == "new"]
        taken = {m.id for m in news}
        for new, old in zip(rng.sample(news, min(count, len(news))),
                            rng.sample(olds, min(count, len(olds))), strict=False):
            if old.id not in taken:
                taken.discard(new.id)
                new.id = old.id
                taken.add(new.id)

    def collisions(self) -> list[tuple[Meta, Meta]]:
        """Return the (old-CMS, new-CMS) pairs of articles that share an id."""
        olds = {m.id: m for m in self.metas if m.cms == "old"}
        return [(olds[m.id], m) for m in self.metas if m.cms == "new" and m.id in olds]

    def __len__(self) -> int:
        return len(self.metas)

    def listing(self, section: str, now_minute: int) -> list[Meta]:
        """Return the articles of ``section`` that exist at ``now_minute``, newest first."""
        metas = self.by_section[section]
        upto = bisect.bisect_right(self._section_minutes[section], now_minute)
        return [m for m in reversed(metas[:upto]) if m.exists(now_minute)]

    def newest(self, now_minute: int, count: int) -> list[Meta]:
        """Return up to ``count`` articles existing at ``now_minute``, newest first."""
        out: list[Meta] = []
        upto = bisect.bisect_right(self._minutes, now_minute)
        for meta in reversed(self.metas[:upto]):
            if meta.exists(now_minute):
                out.append(meta)
                if len(out) == count:
                    break
        return out

    def related(self, meta: Meta, now_minute: int, count: int = 4) -> list[Meta]:
        """Return up to ``count`` earlier same-section articles that exist at ``now_minute``."""
        metas = self.by_section[meta.section]
        pos = bisect.bisect_left(self._section_minutes[meta.section], meta.minute)
        out = []
        for other in reversed(metas[max(0, pos - 3 * count) : pos]):
            if other is not meta and other.exists(now_minute):
                out.append(other)
                if len(out) == count:
                    break
        return out

    def path(self, meta: Meta) -> str:
        """Return the root-relative path the site prints for ``meta`` (site's own slug case)."""
        slug = self.head(meta.index).slug
        if meta.cms == "old":
            return f"/channel/{meta.section}/{meta.month}/{slug}-{meta.id}/"
        return f"/{meta.section}/{meta.month}/{slug}-{meta.id}/"

    def canonical_path(self, meta: Meta) -> str:
        """Return the canonical path of ``meta``: lower-case slug, trailing slash."""
        return self.path(meta).lower() if meta.cms == "old" else self.path(meta)

    def _rng(self, meta: Meta, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{meta.id}:{part}")

    def _head(self, index: int) -> Head:
        meta = self.metas[index]
        rng = self._rng(meta, "head")
        topic = _SECTION_TOPICS[meta.section]
        slots = T.Slots(rng, meta.published.year)
        if meta.leader:
            title = T.fill(
                rng.choice(
                    (
                        "Phát huy truyền thống, xây dựng Đảng bộ tỉnh trong sạch, vững mạnh",
                        "Nam Định quyết tâm hoàn thành thắng lợi nhiệm vụ năm {year}",
                        "Đổi mới phương thức lãnh đạo của Đảng ở cơ sở",
                    )
                ),
                slots,
            )
            if rng.random() < 0.4:
                title += " (Tiếp theo)"
        else:
            title = T.fill(rng.choice(T.TOPICS[topic]["titles"]), slots)
        title = T.tone_mix(title, rng, rng.choice((0.0, 0.3)))
        kicker = rng.choice(T.KICKERS) if rng.random() < 0.1 else None
        title_case = meta.cms == "old" and meta.published.year <= 2012
        return Head(title, T.slugify(title, keep_case=title_case), kicker)

    def _body(self, index: int) -> Body:
        meta = self.metas[index]
        rng = self._rng(meta, "body")
        pub = meta.published
        topic = _SECTION_TOPICS[meta.section]
        slots = T.Slots(rng, pub.year)
        share = rng.choice((0.0, 0.3, 0.6))
        lead = T.fill(self._lead(rng, pub, topic, slots), slots)
        paragraphs = T.paragraphs(rng, topic, slots, rng.randrange(3, 9))
        # The end mark replaces the last full stop: "...năm 2021./."
        paragraphs[-1] = paragraphs[-1].rstrip(".")
        paragraphs = [T.tone_mix(p, rng, share) for p in paragraphs]
        lead = T.tone_mix(lead, rng, share)

        byline, authors, source, leader_title = self._byline(rng, meta)
        credit = authors[0] if authors else rng.choice(T.PEN_NAMES)
        photos: list[Photo] = []
        n_photos = rng.choice((0, 1, 1, 2, 2, 3)) if len(paragraphs) > 1 else 0
        spots = sorted(rng.choices(range(len(paragraphs) - 1), k=n_photos))
        prev_alt = None
        for k, after in enumerate(spots):
            caption = T.tone_mix(T.fill(rng.choice(T.TOPICS[topic]["captions"]), slots), rng, share)
            roll = rng.random()
            if prev_alt is not None and roll < 0.1:
                alt = prev_alt  # the CMS reuses the previous image's alt text
            elif roll < 0.2:
                alt = T.caption_variant(caption, rng, credit)
            elif roll < 0.25:
                alt, caption = caption, T.caption_variant(caption, rng, credit)
            else:
                alt = caption
            photos.append(Photo(self._image(meta, k), alt, caption, after))
            prev_alt = alt

        edited = None
        if meta.edited is not None:
            changed = list(paragraphs)
            spot = rng.randrange(len(changed))
            if rng.random() < 0.5 and any(c.isdigit() for c in changed[spot]):
                old_para = changed[spot]
                pos = next(i for i, c in enumerate(old_para) if c.isdigit())
                digit = str((int(old_para[pos]) + 1) % 10)
                changed[spot] = old_para[:pos] + digit + old_para[pos + 1 :]
            else:
                changed.insert(len(changed) - 1, T.paragraphs(rng, topic, slots, 1)[0])
            edited = tuple(changed)
        return Body(
            lead, tuple(paragraphs), edited, tuple(photos), byline, authors, source, leader_title
        )

    @staticmethod
    def _lead(rng: random.Random, pub: datetime, topic: str, slots: T.Slots) -> str:
        roll = rng.random()
        event = rng.choice(T.TOPICS[topic]["events"])
        if roll < 0.05:
            return "LTS: " + rng.choice(T.LTS_SENTENCES) + "."
        if roll < 0.6:
            # The event happened before publication: same day earlier, or the evening before.
            day, parts = pub, ["Sáng"] + (["Chiều"] if pub.hour >= 12 else [])
            parts += ["Tối"] if pub.hour >= 18 else []
            if pub.hour < 12 and rng.random() < 0.3:
                day, parts = pub - timedelta(days=1), ["Chiều", "Tối"]
            when = f"{rng.choice(parts)} {day.day}-{day.month}"
            return f"{when}, {event}. " + T.sentence(rng, topic, slots)
        return event[0].upper() + event[1:] + ". " + T.sentence(rng, topic, slots)

    @staticmethod
    def _byline(
        rng: random.Random, meta: Meta
    ) -> tuple[str | None, tuple[str, ...], str | None, str | None]:
        if meta.leader:
            return None, (T.person_name(rng),), None, rng.choice(T.LEADER_TITLES)
        name = rng.choice(T.PEN_NAMES)
        form = rng.choices(
            ("plain", "Bài và ảnh: ", "Tin ảnh: ", "Tin, ảnh: ", "Bài, ảnh: ", "ttxvn", "two"),
            weights=(40, 12, 10, 10, 8, 8, 12),
        )[0]
        if form == "plain":
            return name, (name,), None, None
        if form == "ttxvn":
            return "Theo TTXVN", (), "TTXVN", None
        if form == "two":
            other = rng.choice([p for p in T.PEN_NAMES if p != name])
            return f"{name} - {other}", (name, other), None, None
        return form + name, (name,), None, None

    def _image(self, meta: Meta, k: int) -> str:
        pub = meta.published
        if meta.cms == "old":
            return f"{IMAGE_ROOT}/dataimages/{pub:%Y%m}/original/images{meta.id}{k}_1.jpg"
        shot = pub - timedelta(minutes=40) + timedelta(seconds=7 * k)
        return f"{IMAGE_ROOT}/{pub:%m%Y}/anh-{meta.id}-{k + 1}_{shot:%Y%m%d%H%M%S}.jpg"

    def template(self, meta: Meta) -> str:
        """Return the page template that serves ``meta`` (one of TEMPLATES)."""
        if meta.cms == "new":
            return "new-cms"
        if DOCBAO_YEARS[0] <= meta.published.year <= DOCBAO_YEARS[1] and not meta.leader:
            return "docbao-2019"
        return "old-cms"

    def date_line(self, meta: Meta) -> str:
        """Return the article page's date line exactly as the page prints it."""
        pub = meta.published
        if meta.cms == "new":
            return f"{pub:%H:%M, %d/%m/%Y}"
        if meta.older_template:
            gap = " " if stable_hash(self.seed, meta.id, "gap") % 3 == 0 else ""
            weekday = T.WEEKDAYS[pub.weekday()]
            return f"Cập nhật lúc{gap}{pub:%H:%M}, {weekday}, {pub:%d/%m/%Y} (GMT+7)"
        # The old template's bug: a 12-hour hour, then the month where the minutes belong.
        hour12 = pub.hour % 12 or 12
        return f"{hour12:02d}:{pub.month:02d}, {pub:%d/%m/%Y}"

    def truth(self, meta: Meta, now_minute: int, base_url: str) -> dict[str, Any]:
        """Return the truth record of ``meta`` as served at ``now_minute`` from ``base_url``."""
        head, body = self.head(meta.index), self.body(meta.index)
        edited = meta.is_edited(now_minute)
        paragraphs = body.edited if edited and body.edited else body.paragraphs
        pub = meta.published
        captions: list[str] = []
        for photo in body.photos:
            if photo.caption not in captions:
                captions.append(photo.caption)
        buggy = meta.cms == "old" and not meta.older_template
        version = at_minute(meta.edited) if edited and meta.edited is not None else pub
        template = self.template(meta)
        return {
            "id": meta.id,
            "cms": meta.cms,
            "template": template,
            "url": base_url + self.canonical_path(meta),
            "title": head.title,
            # The 2019 markup has no kicker line: a page that does not print it has none.
            "kicker": None if template == "docbao-2019" else head.kicker,
            "lead": body.lead,
            # The archive keeps the sentence's own full stop of "...năm 2021./." (the "/." is
            # the end mark), so the truth does too.
            "body": "\n\n".join((body.lead, *paragraphs[:-1], paragraphs[-1] + ".")),
            "authors": list(body.authors),
            "byline": body.byline,
            "source": body.source,
            "published_date": pub.date().isoformat(),
            "published_at": iso(pub),
            "page_published_at": None if buggy else iso(pub),
            "captions": captions,
            "images": [base_url + photo.src for photo in body.photos],
            "section": meta.section,
            # As the page prints it: the breadcrumb (old CMS, new CMS), the menu (2019 pages).
            "section_name": CHANNELS.get(meta.section) or CATEGORIES[meta.section],
            "section_key": SECTION_KEYS[meta.section],
            "edited": edited,
            "version_date": version.date().isoformat(),
            "date_line": self.date_line(meta),
            "nfd": meta.nfd,
        }
