"""The hostile-upload corpus, generated on the fly: broken, disguised, oversized and
unusual files and names, each with what the site should do with it.

expect: "refused" (a 4xx with a sentence, nothing stored), "accepted" (201), or "either"
(a file a lenient decoder may read; never a 5xx, and nothing stored if refused)."""

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms

from inference.tests.image_files import jpeg_with_scans, tiff_with_pages

pillow_heif.register_heif_opener()

FRAMES = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "gopro-real" / "blur"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes
    expect: str
    content_type: str = "application/octet-stream"
    # Checked on an accepted upload's answer: (what must hold, in words; a test of the JSON).
    note: str = ""


def photo(width: int = 96, height: int = 64, offset: int = 0) -> Image.Image:
    """A crop of a real blurred frame (or noise where the benchmarks are not checked out)."""
    frames = sorted(FRAMES.glob("*.png"))
    if not frames:
        rng = np.random.default_rng(offset)
        return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    with Image.open(frames[offset % len(frames)]) as frame:
        left = (offset * 37) % max(1, frame.width - width)
        top = (offset * 23) % max(1, frame.height - height)
        return frame.convert("RGB").crop((left, top, left + width, top + height))


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Smooth colour with sensor-like noise, at any size: a camera photo's content, which
    compresses as badly as one (bench/zip_downloads.py's)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray((rng.random((size[1] // 32, size[0] // 32, 3)) * 255).astype("uint8"))
    smooth = np.asarray(coarse.resize(size, Image.Resampling.BICUBIC)).astype(np.int16)
    return Image.fromarray(np.clip(smooth + rng.integers(-40, 41, smooth.shape), 0, 255).astype("uint8"))


def camera_jpeg(width: int = 4000, height: int = 3000, offset: int = 0) -> bytes:
    """A photo-like camera JPEG of this size (12 MP by default, some 2.3 MB): a real blurred
    frame scaled up, with a sensor's grain so that it compresses as a photo does."""
    frame = photo(720 * width // height, 720, offset)  # the frames are 720 px high
    image = np.asarray(frame.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = np.random.default_rng(offset).normal(0, 4, (height, width, 1)).astype(np.int16)
    return encode(Image.fromarray(np.clip(image + grain, 0, 255).astype(np.uint8)), "JPEG", quality=90)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bilevel_png(width: int, height: int) -> bytes:
    """An all-black 1-bit PNG of any size, written without holding its pixels: a
    40000x40000 one is a few hundred kilobytes (a decompression bomb)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    rows_per_piece = max(1, 4_000_000 // len(row))
    pieces, left = [], height
    while left:
        count = min(left, rows_per_piece)
        pieces.append(compressor.compress(row * count))
        left -= count
    pieces.append(compressor.flush())
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", b"".join(pieces)) + _chunk(b"IEND", b"")


def _png_with_chunk(kind: bytes, data: bytes) -> bytes:
    png = encode(photo(), "PNG")
    return png[:33] + _chunk(kind, data) + png[33:]  # after the 8-byte signature and IHDR


def _exif_jpeg(**tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[getattr(ExifTags.Base, tag)] = value
    return encode(photo(96, 64), "JPEG", exif=exif.tobytes())


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Probe"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    return encode(photo(), "JPEG", exif=exif.tobytes())


def _animated(fmt: str) -> bytes:
    frames = [photo(64, 64, offset) for offset in range(3)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _corrupt_middle(data: bytes, at: float = 0.5, length: int = 64) -> bytes:
    start = int(len(data) * at)
    return data[:start] + bytes(b ^ 0x5A for b in data[start : start + length]) + data[start + length :]


def cases(max_bytes: int, max_pixels: int, min_side: int) -> list[Case]:
    png, jpeg = encode(photo(), "PNG"), encode(photo(), "JPEG", quality=90)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    sixteen = Image.fromarray(np.asarray(photo().convert("L"), dtype=np.uint16) * 257)
    script = b"<script>alert(document.cookie)</script>"
    side_over = int(max_pixels**0.5) + 1
    return [
        Case("zero bytes", "empty.png", b"", "refused", "image/png"),
        Case("text named .jpg", "notes.jpg", b"just some words, not an image\n" * 20, "refused", "image/jpeg"),
        Case("PNG signature only", "sig.png", png[:8], "refused", "image/png"),
        Case("truncated PNG", "cut.png", png[: len(png) // 2], "refused", "image/png"),
        Case("truncated JPEG", "cut.jpg", jpeg[: int(len(jpeg) * 0.6)], "refused", "image/jpeg"),
        Case("PNG with a broken IDAT", "broken.png", _corrupt_middle(png), "refused", "image/png"),
        Case("JPEG with garbage in its scan", "garbled.jpg", _corrupt_middle(jpeg, 0.7, 16), "either", "image/jpeg"),
        Case("JPEG without its end marker", "noeoi.jpg", jpeg[:-2], "either", "image/jpeg"),
        Case("SVG with a script", "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "refused", "image/svg+xml"),
        Case("SVG named .png", "logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "refused", "image/png"),
        Case("HTML named .jpg", "page.jpg", b"<!doctype html><html><body>" + script + b"</body></html>", "refused", "image/jpeg"),
        Case("GIF+JS polyglot", "poly.gif", b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1);//" + encode(photo(), "GIF")[6:], "refused", "image/gif"),
        Case("PNG with a script appended", "tail.png", png + script, "accepted", "image/png", "stored original has no script"),
        Case("PNG with a script in a text chunk", "text.png", _png_with_chunk(b"tEXt", b"Comment\x00" + script), "accepted", "image/png", "stored original has no script"),
        Case("PNG zTXt bomb (64 MB of text)", "ztxt.png", _png_with_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 64_000_000, 9)), "either", "image/png"),
        Case("decompression bomb 40000x40000", "bomb.png", bilevel_png(40_000, 40_000), "refused", "image/png"),
        Case(f"just over UPLOAD_MAX_PIXELS ({side_over}x{side_over})", "big.png", bilevel_png(side_over, side_over), "refused", "image/png"),
        Case("over UPLOAD_MAX_BYTES", "huge.png", png[:33] + b"\x00" * (max_bytes + 1 - 33), "refused", "image/png"),
        Case(f"below {min_side} px", "tiny.png", encode(photo(min_side - 1, min_side - 1), "PNG"), "refused", "image/png"),
        Case("1x1 PNG", "dot.png", encode(photo(1, 1), "PNG"), "refused", "image/png"),
        Case("a 6000x20 strip", "strip.png", bilevel_png(6000, 20), "refused", "image/png"),
        Case("animated GIF", "anim.gif", _animated("GIF"), "refused", "image/gif"),
        Case("animated WebP", "anim.webp", _animated("WEBP"), "accepted", "image/webp", "note on frames"),
        Case("animated PNG (APNG)", "anim.png", _animated("PNG"), "accepted", "image/png", "note on frames"),
        Case("BMP", "old.bmp", encode(photo(), "BMP"), "refused", "image/bmp"),
        Case("PDF named .png", "doc.png", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "refused", "image/png"),
        Case("CMYK JPEG", "cmyk.jpg", encode(photo().convert("CMYK"), "JPEG"), "accepted", "image/jpeg"),
        Case("16-bit greyscale PNG", "deep.png", encode(sixteen, "PNG"), "accepted", "image/png"),
        Case("palette PNG with transparency", "pal.png", encode(photo().convert("P"), "PNG", transparency=0), "accepted", "image/png"),
        Case("LA PNG", "la.png", encode(photo().convert("LA"), "PNG"), "accepted", "image/png"),
        Case("1-bit PNG", "bw.png", encode(photo().convert("1"), "PNG"), "accepted", "image/png"),
        Case("EXIF orientation 6 (96x64)", "rotated.jpg", _exif_jpeg(Orientation=6), "accepted", "image/jpeg", "stored upright 64x96"),
        Case("EXIF with GPS", "gps.jpg", _gps_jpeg(), "accepted", "image/jpeg", "note on GPS"),
        Case("sRGB ICC profile", "icc.png", encode(photo(), "PNG", icc_profile=srgb), "accepted", "image/png"),
        Case("garbage ICC profile", "badicc.jpg", encode(photo(), "JPEG", icc_profile=b"\x00garbage" * 64), "either", "image/jpeg"),
        Case("TIFF (LZW)", "scan.tiff", encode(photo(), "TIFF", compression="tiff_lzw"), "accepted", "image/tiff"),
        Case("multi-page TIFF", "pages.tiff", _animated("TIFF"), "accepted", "image/tiff", "note on frames"),
        Case("TIFF header and garbage", "bad.tiff", b"II*\x00\x08\x00\x00\x00" + bytes(range(256)) * 8, "refused", "image/tiff"),
        Case("HEIC", "phone.heic", encode(photo(), "HEIF"), "accepted", "image/heic"),
        Case("truncated WebP", "cut.webp", encode(photo(), "WEBP")[:60], "refused", "image/webp"),
        Case("PNG sent as .jpg image/jpeg", "really-png.jpg", png, "accepted", "image/jpeg"),
        Case("path traversal name", "../../etc/passwd.png", png, "accepted", "image/png", "name has no path"),
        Case("1000-character name", "n" * 996 + ".png", png, "either", "image/png"),
        Case("unicode and RTL name", "фото-照片-\u202egnp.exe.png", png, "accepted", "image/png"),
        Case('name with " and ;', "a\"; filename*=UTF-8''evil.html; b=\".png", png, "accepted", "image/png"),
        Case("empty file name", "", png, "either", "image/png"),
    ]


def decode_bombs() -> list[Case]:
    """Valid files that are cheap to send and dear to decode (issue 21, N1)."""
    return [
        Case("progressive JPEG of 30,000 scans, 6000x6000", "scans.jpg", jpeg_with_scans(30_000, size=(6000, 6000)), "refused", "image/jpeg"),
        Case("TIFF of 100,000 pages", "pages.tiff", tiff_with_pages(100_000), "refused", "image/tiff"),
    ]


def camera_files() -> list[Case]:
    """Real photos as cameras and scanners write them, which the decode bounds must let through."""
    camera = photo_like((4000, 3000), seed=5)
    pages = [photo_like((1600, 1200), seed=6), photo(320, 240), photo(320, 240, offset=1)]
    return [
        Case("progressive JPEG of 4000x3000, as a camera's", "camera.jpg", encode(camera, "JPEG", quality=92, progressive=True), "accepted", "image/jpeg"),
        Case("3-page TIFF whose first page is a 1600x1200 photo", "scan.tiff", encode(pages[0], "TIFF", compression="tiff_lzw", save_all=True, append_images=pages[1:]), "accepted", "image/tiff"),
    ]
