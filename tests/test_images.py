"""Image mirrors: each image keeps its original URL and gains where it is still served."""

from __future__ import annotations

import pytest

from crawler.items import ArticleItem
from crawler.normalise.images import DEFAULT_MIRRORS, mirror_url, with_mirrors
from crawler.process.processing import ItemProcessor, project_settings

HOSTS = frozenset({"baonamdinh.vn", "baonamdinh.com.vn"})
OLD = "/file/e7837c02816d130b0181a995d7ad7e96/dataimages/202201/original/images2548123_1.jpg"
NEW = "/file/e7837c02816d130b0181a995d7ad7e96/022024/anh_20240206141600.jpg"
MIRROR = "https://img.baoninhbinh.org.vn/namdinh"


@pytest.mark.parametrize(("url", "want"), [
    (f"https://baonamdinh.vn{OLD}", f"{MIRROR}{OLD}"),
    (f"http://www.baonamdinh.com.vn{NEW}", f"{MIRROR}{NEW}"),
    (f"https://baonamdinh.vn{NEW}?w=600", f"{MIRROR}{NEW}?w=600"),
    ("https://baonamdinh.vn/common/v1/image/logo-namdinh.png", None),  # not in the image store
    (f"https://cdn.example.com{OLD}", None),  # not the site's
    (None, None),  # a text dump's photo has no URL
])
def test_mirror_url(url, want):
    assert mirror_url(url, DEFAULT_MIRRORS, HOSTS) == want


def test_no_mirrors_configured_gives_none_and_keeps_the_url():
    images = with_mirrors([{"url": f"https://baonamdinh.vn{OLD}", "caption": "Ảnh"}], {}, HOSTS)
    assert images == [{"url": f"https://baonamdinh.vn{OLD}", "caption": "Ảnh", "mirror_url": None}]


def test_the_pipeline_adds_mirror_url_from_settings():
    item = ArticleItem(url="https://baonamdinh.vn/channel/5083/202201/a-2548123/",
                       fetched_at="2022-01-15T08:00:00+07:00",
                       images=[{"url": f"https://baonamdinh.vn{OLD}", "caption": "Ảnh"}])
    settings = project_settings({"ARCHIVE_ENABLED": False,
                                 "IMAGE_MIRRORS": '{"/file/": "https://mirror.example/f/"}'})
    with ItemProcessor(settings) as processor:
        pipeline = next(p for p in processor.pipelines if type(p).__name__ == "ImageMirrorPipeline")
        pipeline.process_item(item)
    assert item.images[0]["mirror_url"] == "https://mirror.example/f/" + OLD.removeprefix("/file/")
    assert item.images[0]["url"] == f"https://baonamdinh.vn{OLD}"
