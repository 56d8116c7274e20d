"""Decoding, validation and normalisation of untrusted image bytes.

This is the one place where uploaded (or imported) image files are parsed. Everything
that leaves it is a fully decoded, 8-bit, upright, sRGB image in one of four modes
(RGB, RGBA, L, LA) with no metadata, and beside it the metadata its results are to carry
(Metadata), or an ImageRejected whose message can be shown to the user as is. It knows nothing of Django: limits are parameters.
"""

import io
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageFile, TiffImagePlugin

from .bounded import Crashed, TooCostly, run_bounded

pillow_heif.register_heif_opener()
# Loads every plugin now, so that Image.OPEN holds the sniffers of all accepted formats.
Image.init()

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF")
# Each accepted format's media type and usual file name suffixes, the first the one given.
FORMAT_FILES = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg", ".jpe")),
    "PNG": ("image/png", (".png",)),
    "WEBP": ("image/webp", (".webp",)),
    "TIFF": ("image/tiff", (".tif", ".tiff")),
    "HEIF": ("image/heic", (".heic", ".heif")),
}
ACCEPTED_TYPES = "JPEG, PNG, WebP, TIFF or HEIC"
STANDARD_MODES = ("RGB", "RGBA", "L", "LA")

# What parsing a malformed file raises. Pillow's own open() takes SyntaxError,
# IndexError, TypeError and struct.error to mean "not this format"; fuzzing found
# TypeError and KeyError from a TIFF's damaged later pages, and RuntimeError from
# pillow-heif. Only calls that parse the file are wrapped with it, so it cannot hide
# a bug of this module.
_MALFORMED_FILE = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    RuntimeError,
    struct.error,
)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# (profile colour space, image mode) pairs that are colour-managed.
_COLOUR_MANAGED = {("RGB", "RGB"), ("RGB", "RGBA"), ("CMYK", "CMYK")}
# The transposition that makes an image with this EXIF orientation upright. It is what
# ImageOps.exif_transpose does, without its rewriting of the EXIF data, which is
# thrown away here and, when malformed, makes it fail.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# The standard mode that Pillow's convert() turns each other mode the decoders give
# into ("La" and "RGBa" have premultiplied alpha).
_PLAIN_CONVERSIONS = {"1": "L", "La": "LA", "RGBa": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB"}
# Files cheap to send and dear to decode: a progressive JPEG decodes every scan over the whole
# image (a 6000x6000 one with 30,000 empty scans held a web worker for a minute), and Pillow
# counts a TIFF's pages by walking all of them (100,000 tiny ones took 107 s). Camera and
# encoder JPEGs have at most a few dozen scans (libjpeg's progressive script has 10, an MPO
# one set per image); the limit is checked on the raw bytes, before any decoding.
MAX_JPEG_SCANS = 100
# Photos come as TIFFs of a page or a few (a thumbnail, a preview); scanned documents of a
# few hundred. More is a file made to be walked; counting this many costs a millisecond.
# Only the first page is ever decoded.
MAX_TIFF_PAGES = 1000


class ImageRejected(ValueError):
    """The message is shown to the user as is."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self):
        # Pickled back from the decoding child (decode_image_bounded) with both fields.
        return (ImageRejected, (self.message, self.code))


# The EXIF tags of the first directory that describe the photo (camera, date, author), and
# the pointers to its Exif and GPS directories. The others describe how a file stores its
# pixels (a TIFF's strips and bit depths), which a result stores its own way.
_DESCRIPTIVE_TAGS = {
    ExifTags.Base.ImageDescription, ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.Orientation,
    ExifTags.Base.XResolution, ExifTags.Base.YResolution, ExifTags.Base.ResolutionUnit, ExifTags.Base.Software,
    ExifTags.Base.DateTime, ExifTags.Base.Artist, ExifTags.Base.HostComputer, ExifTags.Base.Copyright,
    ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo,
}  # fmt: skip


@dataclass(frozen=True)
class Metadata:
    """What of a photo's own metadata its results carry: its EXIF (upright, so orientation 1;
    without GPS unless kept) and its colour profile, in whose space their pixels are written."""

    exif: bytes = b""
    icc_profile: bytes = b""


@dataclass
class DecodedImage:
    # Fully decoded, upright, sRGB, 8-bit, in one of STANDARD_MODES, without metadata.
    image: Image.Image
    # The detected format, one of ACCEPTED_FORMATS.
    format: str
    # Sentences for the user about what was changed.
    notes: list[str] = field(default_factory=list)
    metadata: Metadata = field(default_factory=Metadata)


def decode_image(
    data: bytes | BinaryIO, *, max_bytes: int, max_pixels: int, min_side: int = 1, keep_location: bool = False
) -> DecodedImage:
    """Decode an untrusted image file (bytes, or a file read from its current position).

    The type is decided by the content alone. Its results' metadata keeps the GPS location
    only when `keep_location`. Raises ImageRejected for anything that is
    not a complete, intact JPEG, PNG, WebP, TIFF or HEIC image within the limits, which
    include at least min_side pixels on each side.
    """
    # Pillow fills in missing data instead of failing when this is set, and the check
    # that uploads are complete would silently go.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("decode_image needs PIL.ImageFile.LOAD_TRUNCATED_IMAGES to be False.")
    # Above Pillow's own limit, Pillow would reject or warn before this module's check.
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        raise ValueError(f"max_pixels must not exceed PIL.Image.MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS}).")

    raw = _read_within_limit(data, max_bytes)
    image_format = _sniff_format(raw)
    if image_format == "JPEG" and raw.count(b"\xff\xda") > MAX_JPEG_SCANS:
        raise ImageRejected(
            f"This JPEG has more than {MAX_JPEG_SCANS} scans, which no camera writes and which would take minutes to "
            "decode. Please save it again as an ordinary JPEG.",
            "too_complex",
        )
    image = _open_checked(raw, image_format, max_pixels, min_side)
    notes: list[str] = []

    # The metadata is read before decoding: a TIFF's EXIF is read from the file.
    try:
        frame_count = _tiff_pages(raw) if image_format == "TIFF" else getattr(image, "n_frames", 1)
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        has_gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except _MALFORMED_FILE as error:
        raise _corrupt() from error
    if frame_count > MAX_TIFF_PAGES:
        raise ImageRejected(
            f"This TIFF has more than {MAX_TIFF_PAGES:,} pages, which no photo has. Please save the photo "
            "on its own, as a JPEG, PNG or single-page TIFF.",
            "too_complex",
        )
    icc_profile = image.info.get("icc_profile")
    source_bits = _bits_per_sample(image, raw)

    try:
        image.load()
    except _MALFORMED_FILE as error:
        raise _corrupt() from error

    # An MPO is a JPEG followed by auxiliary images (a gain map, a depth map) that are
    # not part of the photo, so dropping them is not worth a note.
    if image.format == "MPO":
        image_format = "JPEG"
    elif frame_count > 1:
        notes.append(f"The file contains {frame_count} images (animation frames or pages); only the first was used.")

    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
        notes.append("Rotated upright using the EXIF orientation.")

    image = _expand_palette_and_transparency(image)
    if icc_profile:
        image = _convert_to_srgb(image, icc_profile, notes)
    image = _to_standard_mode(image, source_bits, notes)

    if has_gps and not keep_location:
        notes.append("Location (GPS) metadata removed.")
    metadata = Metadata(exif=_results_exif(exif, image.size, keep_location, notes), icc_profile=_results_profile(icc_profile, image.mode))
    return DecodedImage(image=_without_metadata(image), format=image_format, notes=notes, metadata=metadata)


def decode_image_bounded(
    data: bytes | BinaryIO,
    *,
    cpu_seconds: int,
    max_bytes: int,
    max_pixels: int,
    min_side: int = 1,
    keep_location: bool = False,
) -> DecodedImage:
    """decode_image in a child process with at most `cpu_seconds` of CPU (inference.bounded):
    what web processes and workers call on files from outside."""
    raw = _read_within_limit(data, max_bytes)
    try:
        return run_bounded(
            decode_image,
            raw,
            cpu_seconds=cpu_seconds,
            # Waiting for a CPU on a busy machine is not the file's fault; sleeping is.
            wall_seconds=3 * cpu_seconds + 2,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            min_side=min_side,
            keep_location=keep_location,
        )
    except TooCostly as error:
        raise ImageRejected(
            f"This image would take more than {cpu_seconds} seconds to decode, far longer than a photo of its size "
            "should. Please save it again as an ordinary JPEG or PNG.",
            "too_complex",
        ) from error
    except Crashed as error:
        raise _corrupt() from error


def encode_png(image: Image.Image, metadata: Metadata | None = None) -> bytes:
    """Lossless PNG with no metadata (EXIF, GPS, ICC, text), or with the photo's (a result)."""
    image, embedded = _with_metadata(image, metadata)
    buffer = io.BytesIO()
    # PNG's writer copies the ICC profile from image.info unless told otherwise.
    image.save(buffer, "PNG", **{"icc_profile": None, **embedded})
    return buffer.getvalue()


def encode_jpeg(image: Image.Image, quality: int = 92, metadata: Metadata | None = None) -> bytes:
    """JPEG with no metadata, or with the photo's (a result); alpha is flattened onto white
    and greyscale stays greyscale."""
    image, embedded = _with_metadata(image, metadata)
    buffer = io.BytesIO()
    # JPEG's writer copies the comment from image.info unless told otherwise.
    _flatten_on_white(image).save(buffer, "JPEG", quality=quality, comment=b"", **embedded)
    return buffer.getvalue()


def encode_webp(image: Image.Image, quality: int = 90, metadata: Metadata | None = None) -> bytes:
    """Lossy WebP with no metadata, or with the photo's (a result); keeps alpha, about a
    third smaller than the JPEG."""
    image, embedded = _with_metadata(image, metadata)
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=4, **embedded)
    return buffer.getvalue()


def to_srgb(image: Image.Image) -> Image.Image:
    """A stored result, written in its photo's colour space (encode_png with metadata), back
    in the sRGB that the site works in; any other image as it is."""
    icc_profile = image.info.get("icc_profile")
    return _without_metadata(_convert_to_srgb(image, icc_profile, [])) if icc_profile else image


def make_thumbnail(image: Image.Image, size: int = 480) -> bytes:
    """JPEG whose longest side is at most size; smaller images are not enlarged."""
    scale = size / max(image.size)
    if scale < 1:
        width, height = image.size
        new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return encode_jpeg(image, quality=85)


def split_alpha(image: Image.Image) -> tuple[np.ndarray, Image.Image | None]:
    """The (H, W, 3) uint8 RGB array the model works on, and the alpha band or None."""
    if image.mode not in STANDARD_MODES:
        raise ValueError(f"Expected one of {STANDARD_MODES}, got {image.mode}.")
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    return np.asarray(image.convert("RGB")), alpha


def merge_like(rgb: np.ndarray, like: Image.Image, alpha: Image.Image | None) -> Image.Image:
    """Turn the model's RGB output back into the mode of the image it came from:
    greyscale stays greyscale, and the alpha band is re-attached."""
    if rgb.dtype != np.uint8 or rgb.shape != (like.height, like.width, 3):
        raise ValueError(f"Expected a uint8 array of shape {(like.height, like.width, 3)}, got {rgb.dtype} {rgb.shape}.")
    image = Image.fromarray(rgb)
    if like.mode in ("L", "LA"):
        image = image.convert("L")
    if alpha is not None:
        image.putalpha(alpha)
    return image


def _read_within_limit(data: bytes | BinaryIO, max_bytes: int) -> bytes:
    # Reading one byte more than allowed is enough to know a stream is too large,
    # without ever holding more than that in memory.
    raw = data if isinstance(data, bytes) else data.read(max_bytes + 1)
    if not raw:
        raise ImageRejected("The file is empty.", "empty")
    if len(raw) > max_bytes:
        raise ImageRejected(f"The file is larger than the {_megabytes(max_bytes)} MB limit.", "too_large")
    return raw


def _megabytes(size: int) -> str:
    return f"{round(size / 1024**2, 1):g}"


def _sniff_format(raw: bytes) -> str:
    # Pillow's own recognisers for the accepted formats, on the same 16 bytes it reads.
    prefix = raw[:16]
    for image_format in ACCEPTED_FORMATS:
        _factory, accept = Image.OPEN[image_format]
        if accept is not None and accept(prefix) is True:
            return image_format
    raise ImageRejected(
        f"This file is not an image type we accept. Please upload a {ACCEPTED_TYPES} image.",
        "unsupported_type",
    )


def _open_checked(raw: bytes, image_format: str, max_pixels: int, min_side: int) -> ImageFile.ImageFile:
    """Open the file as the sniffed format, after the checks that need no decoding: the
    pixel count, the sides, and for a PNG every chunk's CRC, which decoding ignores for
    image data."""
    try:
        # verify() leaves the image unusable, hence the second open.
        Image.open(io.BytesIO(raw), formats=[image_format]).verify()
        image = Image.open(io.BytesIO(raw), formats=[image_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's limit is not below max_pixels (see decode_image), so this is over it too.
        raise _too_many_pixels(max_pixels) from error
    except _MALFORMED_FILE as error:
        raise _corrupt() from error
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels, f"The image is {width} × {height} pixels. ")
    if min(width, height) < min_side:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; photos must be at least {min_side} pixels on each side.",
            "too_small",
        )
    return image


def _tiff_pages(raw: bytes) -> int:
    """How many pages (IFDs) a TIFF has, counted up to one more than MAX_TIFF_PAGES by
    following the chain of IFD offsets; never Pillow's n_frames, which walks them all."""
    order = "<" if raw[:2] == b"II" else ">"
    if raw[2:4] in (b"\x2b\x00", b"\x00\x2b"):  # BigTIFF: 8-byte offsets and counts
        count_format, entry_size, offset_format, offset = "Q", 20, "Q", struct.unpack_from(order + "Q", raw, 8)[0]
    else:
        count_format, entry_size, offset_format, offset = "H", 12, "I", struct.unpack_from(order + "I", raw, 4)[0]
    pages, seen = 0, set()
    while offset and offset not in seen and pages <= MAX_TIFF_PAGES:
        seen.add(offset)
        pages += 1
        entries = struct.unpack_from(order + count_format, raw, offset)[0]
        after_entries = offset + struct.calcsize(count_format) + entries * entry_size
        offset = struct.unpack_from(order + offset_format, raw, after_entries)[0]
    return pages


def _too_many_pixels(max_pixels: int, dimensions: str = "") -> ImageRejected:
    return ImageRejected(
        f"{dimensions}Images of up to {max_pixels / 1e6:g} megapixels are accepted.", "too_many_pixels"
    )


def _corrupt() -> ImageRejected:
    return ImageRejected("The file is damaged or incomplete and cannot be read as an image.", "corrupt")


def _bits_per_sample(image: ImageFile.ImageFile, raw: bytes) -> int:
    """The source's bit depth, which the decoded mode does not always tell: Pillow and
    pillow-heif reduce 16-bit RGB(A) PNGs and TIFFs, and 10-bit HEICs, to 8 bits."""
    if image.format == "PNG":
        return raw[24]  # in IHDR, which is always the first chunk
    if image.format == "TIFF":
        return max(image.tag_v2.get(TiffImagePlugin.BITSPERSAMPLE, (1,)))
    if image.format == "HEIF":
        return image.info["bit_depth"]
    return 8


def _expand_palette_and_transparency(image: Image.Image) -> Image.Image:
    """Palette images become RGB(A), and a transparent colour (a PNG tRNS chunk) becomes
    an alpha band, before colour management, which needs RGB."""
    transparent = "transparency" in image.info
    if image.mode == "P":
        return image.convert("RGBA" if transparent else "RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    if transparent and image.mode in ("1", "L"):
        return image.convert("LA")
    if transparent and image.mode == "RGB":
        return image.convert("RGBA")
    return image


def _results_exif(exif: Image.Exif, size: tuple[int, int], keep_location: bool, notes: list[str]) -> bytes:
    """The photo's EXIF as its results carry it: its descriptive tags, orientation 1 (the
    pixels are upright now), the pixel dimensions of the upright image, and no GPS unless
    kept. Empty when it has none, or when its tags cannot be written back (buggy camera
    software writes some with the wrong type)."""
    kept = Image.Exif()
    try:
        for tag, value in exif.items():
            if tag in _DESCRIPTIVE_TAGS and (keep_location or tag != ExifTags.IFD.GPSInfo):
                kept[tag] = exif.get_ifd(tag) if tag in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo) else value
        if not kept:
            return b""
        if ExifTags.Base.Orientation in kept:
            kept[ExifTags.Base.Orientation] = 1
        described = kept.get(ExifTags.IFD.Exif)
        if described and ExifTags.Base.ExifImageWidth in described:
            described[ExifTags.Base.ExifImageWidth], described[ExifTags.Base.ExifImageHeight] = size
        return kept.tobytes()
    except _MALFORMED_FILE:
        notes.append("The photo's EXIF data is malformed; its results carry none.")
        return b""


def _results_profile(icc_profile: bytes | None, mode: str) -> bytes:
    """The colour profile results carry: the photo's own, where it is one of the decoded
    image's colour (an RGB profile, or a grey one for a greyscale image) and can be read.
    A CMYK photo's results are RGB, and carry none (sRGB)."""
    if not icc_profile:
        return b""
    try:
        colour_space = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)).profile.xcolor_space.strip()
    except (OSError, ValueError, ImageCms.PyCMSError):
        return b""
    fits = {"RGB": ("RGB", "RGBA"), "GRAY": ("L", "LA")}.get(colour_space, ())
    return icc_profile if mode in fits else b""


def _with_metadata(image: Image.Image, metadata: Metadata | None) -> tuple[Image.Image, dict]:
    """The image in the colour space of the photo's profile (it is sRGB until then), and the
    save options that embed the photo's metadata; as it is and none without metadata."""
    if metadata is None:
        return image, {}
    embedded = {"exif": metadata.exif} if metadata.exif else {}
    if not metadata.icc_profile:
        return image, embedded
    profile = ImageCms.ImageCmsProfile(io.BytesIO(metadata.icc_profile))
    if image.mode in ("RGB", "RGBA") and "sRGB" not in ImageCms.getProfileDescription(profile):
        image = ImageCms.profileToProfile(image, _SRGB, profile, outputMode=image.mode)
    return image, {**embedded, "icc_profile": metadata.icc_profile}


def _convert_to_srgb(image: Image.Image, icc_profile: bytes, notes: list[str]) -> Image.Image:
    """Colour-manage an RGB(A) or CMYK image whose embedded profile is not sRGB, so the
    pixels are sRGB. A greyscale profile is left out: its curve is close to sRGB's,
    and honouring it would turn the image into RGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        colour_space = profile.profile.xcolor_space.strip()
        if (colour_space, image.mode) not in _COLOUR_MANAGED or "sRGB" in ImageCms.getProfileDescription(profile):
            return image
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=output_mode)
    except (OSError, ValueError, ImageCms.PyCMSError):
        notes.append("The embedded colour profile could not be read and was ignored.")
        return image
    notes.append("Colours converted to sRGB using the embedded colour profile.")
    return converted


def _to_standard_mode(image: Image.Image, source_bits: int, notes: list[str]) -> Image.Image:
    if source_bits > 8:
        notes.append(f"{source_bits}-bit image converted to 8-bit.")
    if image.mode in STANDARD_MODES:
        return image
    if image.mode == "CMYK":
        notes.append("CMYK image converted to RGB.")
    if image.mode in ("I;16", "I;16B", "I", "F"):
        return _greyscale_to_8_bit(image)
    return image.convert(_PLAIN_CONVERSIONS[image.mode])


def _greyscale_to_8_bit(image: Image.Image) -> Image.Image:
    """Scale, never clip: 16-bit values by their full range; 32-bit integer and float
    values, which have no conventional range, by the range the image uses."""
    if image.mode.startswith("I;16"):
        values = np.asarray(image).astype(np.uint32)
        return Image.fromarray(((values + 128) // 257).astype(np.uint8))
    # No-data values (NaN, infinities) become black rather than breaking the scaling.
    values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0, posinf=0, neginf=0)
    low, high = float(values.min()), float(values.max())
    scale = 255 / (high - low) if high > low else 0
    return Image.fromarray(np.round((values - low) * scale).astype(np.uint8))


def _without_metadata(image: Image.Image) -> Image.Image:
    # An image still backed by the opened file keeps its parsed EXIF (GPS included)
    # in a cache that clearing info does not reach.
    if isinstance(image, ImageFile.ImageFile):
        image = image.copy()
    image.info = {}
    return image


def _flatten_on_white(image: Image.Image) -> Image.Image:
    if image.mode not in ("RGBA", "LA"):
        return image
    base_mode = image.mode[:-1]
    background = Image.new(base_mode, image.size, "white")
    background.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return background
