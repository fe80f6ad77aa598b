"""Image and link discovery in pages."""
from lightbox.crawl.discover import discover, largest_srcset_candidate, normalise_url

PAGE = """<!doctype html><html><head>
<base href="https://blog.test/posts/">
<meta property="og:image" content="/og.jpg"><meta name="twitter:image" content="https://cdn.test/tw.jpg">
<style>.hero { background-image: url("/hero.jpg"); }</style></head><body>
<img src="a.jpg" srcset="s-small.jpg 320w, s-big.jpg 1600w, s-mid.jpg 800w">
<picture><source srcset="p.webp 1x, p@2x.webp 2x" type="image/webp"><img src="p.jpg"></picture>
<img data-src="lazy.jpg" src="data:image/gif;base64,R0lGOD">
<div style="background-image: url(div.png)"></div>
<a href="next.html#comments">next</a><a href="mailto:x@y.z">mail</a><a href="javascript:void(0)">js</a>
</body></html>"""


def test_every_kind_of_image_is_found():
    found = discover(PAGE, "https://blog.test/posts/1.html")
    assert found.images == {
        "https://blog.test/og.jpg": "og_image",
        "https://cdn.test/tw.jpg": "twitter_image",
        "https://blog.test/hero.jpg": "css_background",
        "https://blog.test/posts/a.jpg": "img_src",
        "https://blog.test/posts/s-big.jpg": "srcset",
        "https://blog.test/posts/p@2x.webp": "picture_source",
        "https://blog.test/posts/p.jpg": "img_src",
        "https://blog.test/posts/lazy.jpg": "data_src",
        "https://blog.test/posts/div.png": "css_background",
    }
    assert found.links == ["https://blog.test/posts/next.html"]


def test_a_thousand_srcset_candidates_is_bounded_work():
    srcset = ", ".join(f"img/{i}.jpg {i}w" for i in range(1, 1001))
    found = discover(f'<img srcset="{srcset}">' * 50, "http://a.test/")  # candidates capped per attribute
    assert len(found.images) == 1
    assert largest_srcset_candidate("a.jpg 1x, b.jpg 3x, c.jpg 2x") == "b.jpg"
    assert largest_srcset_candidate("only.jpg") == "only.jpg"


def test_links_and_images_per_page_are_capped():
    html = "".join(f'<a href="/self?i={i}">x</a><img src="/i{i}.jpg">' for i in range(5000))
    found = discover(html, "http://a.test/")
    assert len(found.links) <= 2000 and len(found.images) <= 500 and found.truncated


def test_normalise_url():
    assert normalise_url("HTTP://Example.COM:80/a#frag") == "http://example.com/a"
    assert normalise_url("https://x.test:443") == "https://x.test/"
    assert normalise_url("ftp://x.test/") is None
    assert normalise_url("//cdn.test/x.jpg", "https://a.test/") == "https://cdn.test/x.jpg"


def test_pages_are_read_in_the_charset_they_declare():
    cyrillic = '<html><head><meta charset="windows-1251"></head><body><a href="/статья.html">статья</a><img src="/фото.jpg"></body></html>'
    found = discover(cyrillic.encode("windows-1251"), "http://ru.test/")
    assert found.links == ["http://ru.test/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F.html"]
    assert list(found.images) == ["http://ru.test/%D1%84%D0%BE%D1%82%D0%BE.jpg"]
    japanese = '<html><body><a href="/記事.html">記事</a><img src="/写真.jpg"></body></html>'
    found = discover(japanese.encode("shift_jis"), "http://jp.test/", content_type="text/html; charset=Shift_JIS")
    assert found.links == ["http://jp.test/%E8%A8%98%E4%BA%8B.html"]
    assert list(found.images) == ["http://jp.test/%E5%86%99%E7%9C%9F.jpg"]


def test_one_key_for_one_resource_however_spelled():
    spellings = ["http://A.test:80/~joe/x.jpg?b=2&a=1", "http://a.test/%7Ejoe/x.jpg?a=1&b=2#top", "http://a.test/%7ejoe/x.jpg?a=1&b=2"]
    assert {normalise_url(u) for u in spellings} == {"http://a.test/~joe/x.jpg?a=1&b=2"}
    assert normalise_url("http://bücher.test/") == "http://xn--bcher-kva.test/"
