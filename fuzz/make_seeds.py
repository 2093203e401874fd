#!/usr/bin/env python3
"""Writes the starting corpora to fuzz/seeds/<target>/ (not kept in git: the minimised corpora in
fuzz/corpus/ are). Run from the repository root: `python3 fuzz/make_seeds.py`. Needs ImageMagick's
`convert` for the small pictures; everything else is built here byte by byte.

Seeds: the recorded API answers (tests/fixtures, assets/demo), hostile copies of them with the
escape payloads of RELIABILITY.md §10 in every string, error envelopes and statuses, the §10 text
payloads, dangerous links (RELIABILITY E1–E7), and small, odd and hostile pictures (§B, §10).
"""

import glob
import hashlib
import json
import os
import struct
import subprocess
import tempfile
import zlib

OUT = "fuzz/seeds"

PAYLOADS = [
    "a\x1b[2J\x1b[Hb",
    "\x1b]52;c;cHduZWQ=\x07",
    "\x1b]52;c;?\x1b\\",
    "\x1b]0;evil\x07\x1b]2;evil\x1b\\",
    "\x1b[21t\x1b[6n",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\u009b2J\u009d0;x\u009c",
    "\x1bP+q544e\x1b\\\x1b_Ga=d\x1b\\",
    "tail \x1b]0;never-terminated",
    "safe\rEVIL\x08\x08\x07",
    "abc\u202egpj.exe\u2066x\u2069",
    "p\u200ba\u2060y\ufeffpal",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467",
    "Tom &amp; Jerry &lt;3",
    "\u061cmark\u200e\u200f",
    "line\u2028sep\u2029",
    "tab\there\nnew line",
]


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def page_seed(body, status=0, header=b""):
    """The page targets' layout: status byte, header length, header value, body."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return bytes([status, len(header)]) + header + body


def status_byte(code):
    statuses = [200, 201, 204, 206, 301, 304, 400, 401, 402, 403, 404, 409, 422, 429, 500,
                502, 503, 504, 299, 600]
    i = statuses.index(code)
    for b in range(0x80, 0x100):
        if b % len(statuses) == i:
            return b
    raise ValueError(code)


def poison(value, counter):
    """Appends a payload to every string (round robin), leaving keys alone."""
    if isinstance(value, dict):
        return {k: poison(v, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, counter) for v in value]
    if isinstance(value, str):
        counter[0] += 1
        return value + PAYLOADS[counter[0] % len(PAYLOADS)]
    return value


def shrink(value, keep=3):
    """Cuts long arrays down so a hostile copy stays small."""
    if isinstance(value, dict):
        return {k: shrink(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [shrink(v, keep) for v in value[:keep]]
    return value


def page_targets():
    sources = {
        "keyapi_page": glob.glob("tests/fixtures/keyapi/*.json") + glob.glob("assets/demo/keyapi/*.json"),
        "agntdata_page": glob.glob("tests/fixtures/agntdata/*.json") + glob.glob("assets/demo/agntdata/*.json"),
        "xapi_page": glob.glob("tests/fixtures/xapi/*.json") + glob.glob("assets/demo/xapi/tweets_*.json"),
    }
    for target, files in sources.items():
        for path in sorted(files):
            raw = open(path, "rb").read()
            name = os.path.basename(os.path.dirname(path)) + "_" + os.path.basename(path)
            write(target, name, page_seed(raw))
            try:
                parsed = json.loads(raw)
            except ValueError:
                continue
            small = shrink(parsed)
            write(target, "hostile_" + name, page_seed(json.dumps(poison(small, [0]), ensure_ascii=False)))
            # The same page sent again with its own cursor (odd status byte: see xmedia::fuzzing).
            write(target, "repeat_" + name, page_seed(json.dumps(small), status=1))
        # Shapes every provider must refuse cleanly.
        common = {
            "empty": page_seed(b""),
            "html_503": page_seed(b"<!DOCTYPE html><html><head><title>503 \x1b]0;x\x07</title></head></html>", status_byte(503)),
            "html_200": page_seed(b"<html><body>rate limited</body></html>"),
            "truncated": page_seed(b'{"data": {"timeline": [{"tweet_id": "1", "text": "a'),
            "deep": page_seed(b"[" * 10000 + b"]" * 10000),
            "deep_obj": page_seed(b'{"a":' * 3000 + b"1" + b"}" * 3000),
            "null": page_seed(b"null"),
            "array": page_seed(b"[]"),
            "text_429_retry": page_seed(b"Rate limit exceeded\n", status_byte(429), b"7"),
            "text_429_date": page_seed(b"Too Many Requests", status_byte(429), b"Fri, 26 Jun 2020 15:01:00 GMT."),
            "text_429_reset": page_seed(b"", status_byte(429), b"1593185073"),
            "text_429_garbage": page_seed(b"", status_byte(429), b"soon"),
            "401_key_echo": page_seed('{"message":"bad key fuzzKEY-7f3a91c2e5 \x1b[2J","code":401}', status_byte(401)),
            "402": page_seed(b'{"code":402,"message":"insufficient credits","data":null}', status_byte(402)),
            "403_protected": page_seed(b'{"detail":"protected account","title":"Forbidden"}', status_byte(403)),
            "404": page_seed(b'{"message":"not found"}', status_byte(404)),
            "500": page_seed(b"internal error \x1b]52;c;cHduZWQ=\x07", status_byte(500)),
            "600": page_seed(b"?", status_byte(600)),
        }
        for name, data in common.items():
            write(target, name, data)

    # Provider-specific error envelopes (RELIABILITY C9–C13, A15, C15).
    write("keyapi_page", "code_1001", page_seed('{"code":1001,"message":"user \x1b]0;x\x07 not found","data":null}'))
    write("keyapi_page", "code_string", page_seed('{"code":"0","data":{"timeline":[],"next_cursor":"","status":"ok"}}'))
    write("keyapi_page", "suspended", page_seed('{"code":0,"data":{"timeline":[],"user":{"status":"suspended","screen_name":"x"}}}'))
    write("keyapi_page", "protected", page_seed('{"code":0,"data":{"timeline":[],"user":{"protected":true,"screen_name":"x"}}}'))
    write("keyapi_page", "big_ids", page_seed('{"code":0,"data":{"timeline":[{"tweet_id":18446744073709551616,"favorites":-1,"views":"1e30","media":{"photo":[{"media_url_https":"https://pbs.twimg.com/media/a.jpg","id":9007199254740993}]}}],"next_cursor":"c"}}'))
    write("agntdata_page", "422_validation", page_seed('{"success":false,"error":{"code":"VALIDATION_ERROR","message":"bad \x1b[2J","details":[{"field":"user_id","message":"must be \u202enumeric"}]}}', status_byte(422)))
    write("agntdata_page", "success_false_200", page_seed('{"success":false,"error":{"code":"NOT_FOUND","message":"user not found"}}'))
    write("agntdata_page", "results_null", page_seed('{"results":null,"continuation_token":"abc"}'))
    write("agntdata_page", "same_token", page_seed('{"results":[{}],"continuation_token":"abc"}', status=1))
    write("xapi_page", "problem_400", page_seed('{"type":"about:blank","title":"Invalid Request","detail":"One or more parameters \x1b]52;c;x\x07","status":400}', status_byte(400)))
    write("xapi_page", "errors_only_user", page_seed('{"errors":[{"title":"Not Found Error","detail":"Could not find user","resource_type":"user","resource_id":"1700000000000000001","parameter":"id","value":"1700000000000000001"}]}'))
    write("xapi_page", "meta_only", page_seed('{"meta":{"result_count":0}}'))
    write("xapi_page", "next_token_repeat", page_seed('{"data":[],"meta":{"next_token":"abc"}}', status=1))
    write("xapi_page", "empty_token", page_seed('{"meta":{"result_count":0,"next_token":""}}'))


def sanitize_target():
    for i, p in enumerate(PAYLOADS):
        write("sanitize", f"payload_{i:02}", p)
    write("sanitize", "bel_1000", "\x07" * 1000)
    write("sanitize", "cjk_emoji", "東京 مرحبا 👍🏽 ♻️ 🥲🏻 한국어\n")
    write("sanitize", "invalid_utf8", b"ok\xff\xfe\x1b[31mred\xc0\x80")
    write("sanitize", "zwj_edges", "\u200d👨\u200d\u200d👩\u200d")
    write("sanitize", "nested", "\x1b]0;\x1b[2J\x07\x1b[\x1b]52;c;x\x07")


def open_url_target():
    links = [
        "https://x.com/nasa/status/1",
        "http://127.0.0.1:8080/media/a.jpg",
        "http://localhost/a",
        "http://0x7f.1/",
        "http://[::1]/",
        "javascript:alert(1)",
        "vbscript:msgbox",
        "data:text/html,hi",
        "file:///etc/passwd",
        "file://attacker/share/x",
        "ms-settings:",
        "vscode://x",
        "--load-modules=/tmp/evil.so",
        "-aCalculator",
        "https://x.com&calc.exe",
        'https://x.com"&calc&"',
        "https://$(calc.exe)",
        "https://x.com/a\nb",
        "https://x.com/\x1b[2J",
        "https://x.com/\u202emoc",
        "https://twitter.com@evil.example/",
        "https://user:pw@x.com/",
        "https://ехаmple.com/",
        "https://x.com/" + "é" * 1000,
        "https://x.com/" + "a" * 2040,
        "HTTPS://X.COM/%2e%2e/a?b=c#d",
        "https:x.com",
        "https:///x",
        "https://x.com:99999/",
    ]
    for i, link in enumerate(links):
        write("open_url", f"link_{i:02}", link)


def convert(args, ext):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out." + ext)
        subprocess.run(["convert"] + args + [out], check=True)
        return open(out, "rb").read()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(w, h):
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))


def png_ztxt_bomb():
    raw = b"\x00\xff\x00\x00"  # one red pixel, filter byte 0
    idat = png_chunk(b"IDAT", zlib.compress(raw))
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (4 << 20), 9))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + bomb + idat + png_chunk(b"IEND", b""))


def gif_screen(w, h):
    # A GIF89a whose logical screen claims w x h, with a 1x1 image and a 2-colour table.
    return (b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
            + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def jpeg_sof(w, h):
    # SOI, a minimal SOF0 claiming w x h with 1 component, EOI: a header bomb (RELIABILITY B1).
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def image_target():
    grad = ["-size", "{}x{}", "gradient:red-blue"]

    def sized(w, h):
        return [a.format(w, h) if "{}" in a else a for a in grad]

    pics = {
        "jpeg_8x6.jpg": convert(sized(8, 6) + ["-quality", "50"], "jpg"),
        "jpeg_progressive_40x30.jpg": convert(sized(40, 30) + ["-interlace", "Plane", "-quality", "30"], "jpg"),
        "jpeg_gray_16x16.jpg": convert(sized(16, 16) + ["-colorspace", "Gray"], "jpg"),
        "jpeg_cmyk_8x8.jpg": convert(sized(8, 8) + ["-colorspace", "CMYK"], "jpg"),
        "jpeg_big_900x16.jpg": convert(sized(900, 16) + ["-quality", "5"], "jpg"),
        "png_rgb_7x5.png": convert(sized(7, 5), "png"),
        "png_palette_alpha_9x9.png": convert(sized(9, 9) + ["-alpha", "set", "-channel", "A", "-evaluate", "set", "50%", "+channel", "-colors", "4"], "png8"),
        "png_16bit_4x4.png": convert(sized(4, 4) + ["-depth", "16"], "png48"),
        "png_gray_alpha_3x3.png": convert(sized(3, 3) + ["-colorspace", "Gray", "-alpha", "set"], "png"),
        "png_interlaced_12x10.png": convert(sized(12, 10) + ["-interlace", "PNG"], "png"),
        "gif_6x6.gif": convert(sized(6, 6), "gif"),
        "gif_animated.gif": convert(["-delay", "1", "-size", "5x5", "xc:red", "xc:green", "xc:blue"], "gif"),
        "webp_lossy_10x8.webp": convert(sized(10, 8) + ["-quality", "20"], "webp"),
        "webp_lossless_alpha_6x6.webp": convert(sized(6, 6) + ["-alpha", "set", "-define", "webp:lossless=true"], "webp"),
        "bomb_png_100000.png": png_header_only(100_000, 100_000),
        "bomb_png_12000.png": png_header_only(12_000, 12_000),
        "bomb_png_zero.png": png_header_only(0, 0),
        "bomb_png_aspect.png": png_header_only(65535, 1),
        "bomb_png_ztxt.png": png_ztxt_bomb(),
        "bomb_gif_65535x32767.gif": gif_screen(65535, 32767),
        "gif_screen_1x1.gif": gif_screen(1, 1),
        "bomb_jpeg_65500.jpg": jpeg_sof(0xFFDC, 0xFFDC),
        "jpeg_sof_1x65535.jpg": jpeg_sof(1, 65535),
        "truncated_jpeg_ffd8ffd9.jpg": b"\xff\xd8\xff\xd9",
        "html_as_jpeg": b"<!DOCTYPE html><html><body>rate limited</body></html>",
        "json_body": b'{"errors":[]}',
        "empty": b"",
        "tiff_header": b"II*\x00\x08\x00\x00\x00",
        "riff_not_webp": b"RIFF\x04\x00\x00\x00WAVE",
    }
    jpeg = convert(sized(64, 48), "jpg")
    pics["truncated_jpeg_half.jpg"] = jpeg[: len(jpeg) // 2]
    png = convert(sized(64, 48), "png")
    pics["truncated_png_half.png"] = png[: len(png) // 2]
    for name, data in pics.items():
        write("image_decode", name, data)
    for path in ["assets/demo/media/GjcQh-MN9RjkMHu.jpg"]:
        write("image_decode", "demo_" + os.path.basename(path), open(path, "rb").read())


if __name__ == "__main__":
    page_targets()
    sanitize_target()
    open_url_target()
    image_target()
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        size = sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)
        print(f"{t}: {len(files)} files, {size} bytes")
