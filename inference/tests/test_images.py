import io
import struct
import warnings

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, TiffImagePlugin

from inference.images import (
    ImageRejected,
    decode_image,
    encode_jpeg,
    encode_png,
    encode_webp,
    make_thumbnail,
    merge_like,
    split_alpha,
    to_srgb,
)
from inference.tests.image_files import (
    IN_GAMUT,
    camera_jpeg,
    display_p3_icc,
    encode,
    exif_with_mistyped_gps_altitude,
    jpeg_marker_types,
    jpeg_with_scans,
    noise,
    png,
    png_chunk_types,
    rgb16_tiff,
    swapped_primaries_icc,
    tiff_with_pages,
)

MB = 1024 * 1024
LIMITS = {"max_bytes": 5 * MB, "max_pixels": 40_000_000}
RED, GREEN = (200, 0, 0), (0, 200, 0)
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def decode(data: bytes, **limits):
    return decode_image(data, **{**LIMITS, **limits})


def rejection(data: bytes, **limits) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        decode(data, **limits)
    return caught.value


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(int)


# Size limits


@pytest.mark.parametrize("data", [b"", io.BytesIO(b"")], ids=["bytes", "stream"])
def test_an_empty_file_is_rejected(data):
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, **LIMITS)
    assert (caught.value.code, caught.value.message) == ("empty", "The file is empty.")


def test_a_file_over_the_size_limit_is_rejected_before_it_is_parsed():
    # Garbage, so that only the size check can explain the answer.
    error = rejection(b"x" * (2 * MB + 1), max_bytes=2 * MB)
    assert error.code == "too_large"
    assert "2 MB" in error.message


def test_a_stream_is_read_no_further_than_one_byte_past_the_limit():
    stream = io.BytesIO(b"x" * (3 * MB))
    with pytest.raises(ImageRejected, match="larger than the 1 MB limit"):
        decode_image(stream, max_bytes=MB, max_pixels=LIMITS["max_pixels"])
    assert stream.tell() == MB + 1


def test_a_file_of_exactly_the_size_limit_is_accepted():
    data = encode(noise(), "PNG")
    assert decode(data, max_bytes=len(data)).image.size == (30, 20)


# Types, by content only


@pytest.mark.parametrize(
    ("image_format", "expected"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP"), ("TIFF", "TIFF"), ("HEIF", "HEIF")],
)
def test_each_accepted_format_is_recognised_by_its_content(image_format, expected):
    decoded = decode(encode(noise(), image_format))
    assert decoded.format == expected
    assert (decoded.image.mode, decoded.image.size) == ("RGB", (30, 20))
    assert decoded.notes == []


def test_heic_pixels_survive_the_round_trip():
    original = Image.new("RGB", (64, 32), RED)
    decoded = decode(encode(original, "HEIF", quality=95))
    assert np.abs(pixels(decoded.image) - pixels(original)).max() <= 8


@pytest.mark.parametrize(
    "data",
    [
        b"Just some text, in a file called photo.jpg.\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        encode(noise(), "GIF"),
        encode(noise(), "BMP"),
        encode(noise(), "AVIF"),
    ],
    ids=["text", "pdf", "svg", "gif", "bmp", "avif"],
)
def test_other_types_are_rejected_naming_the_accepted_ones(data):
    error = rejection(data)
    assert error.code == "unsupported_type"
    assert "JPEG, PNG, WebP, TIFF or HEIC" in error.message


# Decompression bombs


def test_a_tiny_png_claiming_ten_billion_pixels_is_rejected_without_decoding():
    bomb = png(100_000, 100_000, 8, 0, [b"\x00" * 100])
    assert len(bomb) < 200
    error = rejection(bomb)
    assert error.code == "too_many_pixels"
    assert "40 megapixels" in error.message


def test_pillows_bomb_warning_never_escapes_even_as_an_error():
    # 100 megapixels: over Pillow's warning threshold, under its hard limit.
    header_only = png(10_000, 10_000, 8, 0, [b"\x00" * 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert rejection(header_only).code == "too_many_pixels"


def test_an_image_over_max_pixels_is_rejected_with_its_dimensions():
    error = rejection(encode(noise(), "PNG"), max_pixels=599)
    assert error.code == "too_many_pixels"
    assert "30 × 20" in error.message


def test_an_image_of_exactly_max_pixels_is_accepted():
    assert decode(encode(noise(), "PNG"), max_pixels=600).image.size == (30, 20)


def test_max_pixels_above_pillows_own_limit_is_a_programming_error():
    with pytest.raises(ValueError, match="MAX_IMAGE_PIXELS"):
        decode(encode(noise(), "PNG"), max_pixels=Image.MAX_IMAGE_PIXELS + 1)


# Damaged files


def _with_bad_image_data_crc(data: bytes) -> bytes:
    start = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start : start + 4])
    crc_at = start + 8 + length
    return data[:crc_at] + bytes(b ^ 0xFF for b in data[crc_at : crc_at + 4]) + data[crc_at + 4 :]


def _after_first_segment(data: bytes) -> int:
    """Where a JPEG's first segment after SOI (JFIF's APP0) ends."""
    (length,) = struct.unpack(">H", data[4:6])
    return 4 + length


def _first_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


JPEG = encode(noise(size=(64, 64)), "JPEG")
PNG = encode(noise(size=(64, 64)), "PNG")
GARBAGE = bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))


@pytest.mark.parametrize(
    "data",
    [
        _first_half(JPEG),
        _first_half(PNG),
        _first_half(encode(noise(size=(64, 64)), "WEBP")),
        _first_half(encode(noise(size=(64, 64)), "TIFF")),
        _first_half(encode(noise(size=(64, 64)), "HEIF")),
        JPEG[: _after_first_segment(JPEG)] + GARBAGE,
        PNG[:33] + GARBAGE,  # signature and IHDR
        _with_bad_image_data_crc(PNG),
        PNG[:29] + b"\x00\x00\x00\x00" + PNG[33:],  # IHDR's CRC
    ],
    ids=[
        "truncated-jpeg",
        "truncated-png",
        "truncated-webp",
        "truncated-tiff",
        "truncated-heic",
        "jpeg-garbage-after-header",
        "png-garbage-after-header",
        "png-bad-image-data-crc",
        "png-bad-header-crc",
    ],
)
def test_damaged_files_are_rejected_as_corrupt(data):
    error = rejection(data)
    assert error.code == "corrupt"
    assert error.message == "The file is damaged or incomplete and cannot be read as an image."


@pytest.mark.parametrize("data", [JPEG, PNG], ids=["jpeg", "png"])
def test_bytes_after_the_end_of_the_image_are_tolerated(data):
    # Phones and editors append data after the end marker; the image itself is intact.
    decoded = decode(data + b"appended by some camera app" * 10)
    assert pixels(decoded.image).shape == (64, 64, 3)


def test_pillow_set_to_accept_truncated_files_is_refused(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        decode(PNG)


# Several images in one file


def _first_red_then_green() -> tuple[Image.Image, Image.Image]:
    return Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), GREEN)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP", "TIFF"], ids=["apng", "animated-webp", "multi-page-tiff"])
def test_only_the_first_frame_of_an_animation_or_multi_page_file_is_used(image_format):
    first, second = _first_red_then_green()
    params = {"lossless": True} if image_format == "WEBP" else {}
    data = encode(first, image_format, save_all=True, append_images=[second], **params)
    decoded = decode(data)
    assert decoded.image.getpixel((8, 8)) == RED
    assert decoded.notes == ["The file contains 2 images (animation frames or pages); only the first was used."]


def test_a_jpeg_with_thousands_of_scans_is_refused_before_decoding(monkeypatch):
    bomb = jpeg_with_scans(30_000)
    assert bomb.count(b"\xff\xda") == 30_000 and len(bomb) < MB

    def no_decoding(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Image, "open", no_decoding)
    with pytest.raises(ImageRejected) as refused:
        decode(bomb)
    assert refused.value.code == "too_complex" and "more than 100 scans" in refused.value.message


def test_progressive_jpegs_as_cameras_and_encoders_write_them_still_pass():
    photo = noise(size=(1200, 800))
    for params in ({"progressive": True}, {"progressive": True, "optimize": True, "quality": 95}):
        data = encode(photo, "JPEG", **params)
        assert 2 < data.count(b"\xff\xda") <= 100
        decoded = decode(data)
        assert decoded.image.size == (1200, 800) and decoded.notes == []
    # An MPO: a scan set per image.
    first, second = _first_red_then_green()
    assert decode(encode(first, "MPO", save_all=True, append_images=[second], progressive=True)).format == "JPEG"


@pytest.fixture
def pages_never_walked(monkeypatch):
    walked = property(lambda image: pytest.fail("n_frames walked the pages"))
    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "n_frames", walked)


def test_a_tiff_of_100000_pages_is_refused_without_walking_them(pages_never_walked):
    refused = rejection(tiff_with_pages(100_000), max_bytes=4 * MB)

    assert refused.code == "too_complex"
    assert refused.message.startswith("This TIFF has more than 1,000 pages, which no photo has.")


def test_a_tiff_of_many_pages_is_read_from_its_first(pages_never_walked):
    decoded = decode(tiff_with_pages(1000))

    assert decoded.image.size == (64, 64) and decoded.image.getpixel((10, 10)) == 77
    assert decoded.notes == ["The file contains 1000 images (animation frames or pages); only the first was used."]


def test_an_mpo_is_a_jpeg_whose_extra_images_are_dropped_silently():
    first, second = _first_red_then_green()
    decoded = decode(encode(first, "MPO", save_all=True, append_images=[second], quality=95))
    assert decoded.format == "JPEG"
    assert np.abs(pixels(decoded.image) - RED).max() <= 4
    assert decoded.notes == []


# Modes and bit depths


def test_cmyk_becomes_rgb():
    decoded = decode(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"))
    assert decoded.image.mode == "RGB"
    assert np.abs(pixels(decoded.image) - (255, 0, 0)).max() <= 4
    assert decoded.notes == ["CMYK image converted to RGB."]


def test_16_bit_greyscale_is_scaled_to_8_bit_not_clipped():
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    decoded = decode(encode(Image.fromarray(values), "PNG"))
    assert decoded.image.mode == "L"
    assert pixels(decoded.image).tolist() == [[0, 1, 128, 255]]
    assert decoded.notes == ["16-bit image converted to 8-bit."]


def test_16_bit_rgb_png_is_scaled_to_8_bit():
    values = np.array([[[65535, 32896, 0], [257, 0, 65535]]], dtype=np.uint16)
    decoded = decode(png(2, 1, 16, 2, [values.astype(">u2").tobytes()]))
    assert decoded.image.mode == "RGB"
    assert pixels(decoded.image).tolist() == [[[255, 128, 0], [1, 0, 255]]]
    assert decoded.notes == ["16-bit image converted to 8-bit."]


def test_16_bit_rgb_tiff_is_scaled_to_8_bit():
    values = np.array([[[65535, 32896, 0], [257, 0, 65535]]], dtype=np.uint16)
    decoded = decode(rgb16_tiff(values))
    assert decoded.image.mode == "RGB"
    assert pixels(decoded.image).tolist() == [[[255, 128, 0], [1, 0, 255]]]
    assert decoded.notes == ["16-bit image converted to 8-bit."]


def test_10_bit_heic_is_reduced_to_8_bit():
    values = np.full((16, 16), 65535, dtype=np.uint16)
    decoded = decode(encode(Image.fromarray(values), "HEIF"))
    assert decoded.image.mode == "L"
    assert pixels(decoded.image).min() >= 250
    assert decoded.notes == ["10-bit image converted to 8-bit."]


def test_premultiplied_alpha_heic_becomes_rgba():
    image = Image.new("RGBA", (16, 16), (*RED, 128)).convert("RGBa")
    decoded = decode(encode(image, "HEIF", quality=-1, chroma=444))
    assert decoded.image.mode == "RGBA"
    assert np.abs(pixels(decoded.image) - (*RED, 128)).max() <= 4


@pytest.mark.parametrize(
    "values",
    [np.array([[-1000, 0, 1000]], dtype=np.int32), np.array([[0.0, 0.5, 1.0]], dtype=np.float32)],
    ids=["32-bit-integer", "32-bit-float"],
)
def test_32_bit_greyscale_tiff_is_stretched_over_its_range(values):
    decoded = decode(encode(Image.fromarray(values), "TIFF"))
    assert decoded.image.mode == "L"
    assert pixels(decoded.image).tolist() == [[0, 128, 255]]
    assert decoded.notes == ["32-bit image converted to 8-bit."]


def test_1_bit_becomes_greyscale_black_and_white():
    image = Image.new("1", (2, 1))
    image.putpixel((1, 0), 1)
    decoded = decode(encode(image, "PNG"))
    assert decoded.image.mode == "L"
    assert pixels(decoded.image).tolist() == [[0, 255]]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_standard_modes_and_their_alpha_are_kept_exactly(mode):
    original = noise(mode)
    decoded = decode(encode(original, "PNG"))
    assert decoded.image.mode == mode
    assert np.array_equal(pixels(decoded.image), pixels(original))
    assert decoded.notes == []


def test_a_palette_image_with_a_transparent_index_becomes_rgba():
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.putpixel((1, 0), 1)
    decoded = decode(encode(image, "PNG", transparency=0))
    assert decoded.image.mode == "RGBA"
    assert decoded.image.getpixel((0, 0))[3] == 0
    assert decoded.image.getpixel((1, 0)) == (0, 0, 255, 255)


def test_a_palette_image_without_transparency_becomes_rgb():
    image = Image.new("P", (1, 1))
    image.putpalette([10, 20, 30])
    decoded = decode(encode(image, "PNG"))
    assert (decoded.image.mode, decoded.image.getpixel((0, 0))) == ("RGB", (10, 20, 30))


@pytest.mark.parametrize(("mode", "transparent", "expected_mode"), [("L", 7, "LA"), ("RGB", (1, 2, 3), "RGBA")])
def test_a_transparent_colour_becomes_an_alpha_band(mode, transparent, expected_mode):
    image = Image.new(mode, (2, 1), transparent)
    image.putpixel((1, 0), 200 if mode == "L" else (200, 200, 200))
    decoded = decode(encode(image, "PNG", transparency=transparent))
    assert decoded.image.mode == expected_mode
    assert pixels(decoded.image.getchannel("A")).tolist() == [[0, 255]]


# Colour profiles


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_pixels_are_converted_to_srgb_from_an_embedded_profile(image_format):
    data = encode(Image.new("RGB", (8, 8), RED), image_format, icc_profile=swapped_primaries_icc(), quality=95)
    decoded = decode(data)
    assert np.abs(pixels(decoded.image) - GREEN).max() <= 4
    assert decoded.notes == ["Colours converted to sRGB using the embedded colour profile."]


def test_alpha_survives_the_conversion_to_srgb():
    image = Image.new("RGBA", (8, 8), (*RED, 77))
    decoded = decode(encode(image, "PNG", icc_profile=swapped_primaries_icc()))
    assert decoded.image.getpixel((0, 0)) == (*GREEN, 77)


def test_an_srgb_profile_leaves_pixels_alone():
    decoded = decode(encode(Image.new("RGB", (8, 8), RED), "PNG", icc_profile=SRGB_PROFILE))
    assert decoded.image.getpixel((0, 0)) == RED
    assert decoded.notes == []


@pytest.mark.parametrize(
    "profile",
    [b"not a profile", SRGB_PROFILE[:16] + b"\xa7\xb3\x00\x00" + SRGB_PROFILE[20:]],
    ids=["garbage", "non-ascii-colour-space"],
)
def test_an_unreadable_profile_is_ignored_and_said_so(profile):
    decoded = decode(encode(Image.new("RGB", (8, 8), RED), "PNG", icc_profile=profile))
    assert decoded.image.getpixel((0, 0)) == RED
    assert decoded.notes == ["The embedded colour profile could not be read and was ignored."]


# EXIF


def _exif(orientation: int = 1, with_gps: bool = False) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera maker"
    if with_gps:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (52.0, 31.0, 12.5)  # GPSLatitudeRef, GPSLatitude
        gps[3], gps[4] = "E", (13.0, 24.0, 36.0)  # GPSLongitudeRef, GPSLongitude
    return exif


def test_the_exif_orientation_is_applied_to_the_pixels():
    # Stored 30 wide and 20 high with a mark in the top-left corner; orientation 6
    # says the camera was turned a quarter to the right.
    image = Image.new("RGB", (30, 20), "white")
    image.paste(RED, (0, 0, 5, 5))
    decoded = decode(encode(image, "PNG", exif=_exif(orientation=6)))
    assert decoded.image.size == (20, 30)
    assert decoded.image.getpixel((17, 2)) == RED  # now top-right
    assert decoded.image.getpixel((2, 2)) == (255, 255, 255)
    assert decoded.notes == ["Rotated upright using the EXIF orientation."]


def test_malformed_exif_still_gives_the_orientation():
    image = Image.new("RGB", (30, 20), "white")
    decoded = decode(encode(image, "JPEG", exif=exif_with_mistyped_gps_altitude(orientation=6)))
    assert decoded.image.size == (20, 30)
    assert decoded.notes == ["Rotated upright using the EXIF orientation.", "Location (GPS) metadata removed."]


def test_gps_and_all_other_metadata_are_removed():
    decoded = decode(encode(noise(), "JPEG", exif=_exif(with_gps=True), comment="hello"))
    assert decoded.notes == ["Location (GPS) metadata removed."]
    assert decoded.image.info == {}
    assert not decoded.image.getexif()
    assert png_chunk_types(encode_png(decoded.image)) == [b"IHDR", b"IDAT", b"IEND"]


def test_exif_without_gps_gets_no_gps_note():
    assert decode(encode(noise(), "JPEG", exif=_exif())).notes == []


def test_a_file_object_is_read_like_bytes():
    decoded = decode_image(io.BytesIO(encode(noise(), "PNG")), **LIMITS)
    assert np.array_equal(pixels(decoded.image), pixels(noise()))


# The metadata results carry


def _read_back(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


ENCODERS = {"PNG": encode_png, "JPEG": encode_jpeg, "WEBP": encode_webp}


@pytest.mark.parametrize("image_format", ENCODERS)
def test_results_carry_the_cameras_exif_upright_and_without_gps(image_format):
    decoded = decode(camera_jpeg(size=(96, 64), orientation=6))

    result = _read_back(ENCODERS[image_format](decoded.image, metadata=decoded.metadata))

    exif = result.getexif()
    assert (exif[ExifTags.Base.Make], exif[ExifTags.Base.Model]) == ("Canon", "EOS R6")
    assert exif[ExifTags.Base.Orientation] == 1
    described = exif.get_ifd(ExifTags.IFD.Exif)
    assert described[ExifTags.Base.DateTimeOriginal] == "2026:11:30 10:11:12"
    assert (described[ExifTags.Base.ExifImageWidth], described[ExifTags.Base.ExifImageHeight]) == (64, 96)
    assert ExifTags.IFD.GPSInfo not in exif and not exif.get_ifd(ExifTags.IFD.GPSInfo)


def test_results_keep_the_location_when_asked():
    decoded = decode_image(camera_jpeg(), keep_location=True, **LIMITS)

    gps = _read_back(encode_jpeg(decoded.image, metadata=decoded.metadata)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    assert (gps[1], gps[2], gps[3]) == ("N", (52.0, 31.0, 12.0), "E")
    assert "Location (GPS) metadata removed." not in decoded.notes


@pytest.mark.parametrize(("image_format", "tolerance"), [("PNG", 1), ("WEBP", 4), ("JPEG", 3)])
def test_results_are_written_in_the_photos_own_colour_space(image_format, tolerance):
    decoded = decode(camera_jpeg(size=(96, 64), orientation=1))
    blocks = [(index * 24 + 12, 32) for index in range(len(IN_GAMUT))]
    # Worked on in sRGB, where Display P3's numbers are other colours.
    assert max(np.abs(np.subtract(decoded.image.getpixel(xy), colour)).max() for xy, colour in zip(blocks, IN_GAMUT)) > 10

    result = _read_back(ENCODERS[image_format](decoded.image, metadata=decoded.metadata))

    assert result.info["icc_profile"] == display_p3_icc()
    for xy, colour in zip(blocks, IN_GAMUT):
        assert np.abs(np.subtract(result.getpixel(xy), colour)).max() <= tolerance


def test_a_result_is_read_back_in_srgb():
    decoded = decode(camera_jpeg(orientation=1))

    result = _read_back(encode_png(decoded.image, metadata=decoded.metadata))

    assert np.abs(pixels(to_srgb(result)) - pixels(decoded.image)).max() <= 1
    assert to_srgb(result).info == {}


def test_a_tiffs_storage_tags_are_not_carried_as_exif():
    image = Image.new("RGB", (40, 30), (90, 90, 90))
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[ExifTags.Base.Make], tags[ExifTags.Base.Artist] = "Scanner Co", "Ada"

    decoded = decode(encode(image, "TIFF", tiffinfo=tags))

    exif = _read_back(encode_jpeg(decoded.image, metadata=decoded.metadata)).getexif()
    assert (exif[ExifTags.Base.Make], exif[ExifTags.Base.Artist]) == ("Scanner Co", "Ada")
    assert TiffImagePlugin.STRIPOFFSETS not in exif and TiffImagePlugin.BITSPERSAMPLE not in exif


def test_exif_that_cannot_be_written_back_is_left_out_and_said_so():
    data = encode(Image.new("RGB", (30, 20), "white"), "JPEG", exif=exif_with_mistyped_gps_altitude(orientation=6))

    kept = decode_image(data, keep_location=True, **LIMITS)

    assert kept.metadata.exif == b""
    assert kept.notes[-1] == "The photo's EXIF data is malformed; its results carry none."
    # Without its GPS, the rest is written: the orientation, corrected.
    exif = Image.Exif()
    exif.load(decode(data).metadata.exif)
    assert exif[ExifTags.Base.Orientation] == 1


def test_a_photo_without_metadata_gives_results_without_any():
    decoded = decode(encode(noise(), "PNG"))

    assert png_chunk_types(encode_png(decoded.image, metadata=decoded.metadata)) == [b"IHDR", b"IDAT", b"IEND"]


# Encoders


def _with_metadata(image: Image.Image) -> Image.Image:
    image.info.update(exif=_exif(with_gps=True).tobytes(), icc_profile=swapped_primaries_icc(), comment=b"hello")
    return image


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_encode_png_is_lossless_and_writes_no_metadata(mode):
    original = _with_metadata(noise(mode))
    data = encode_png(original)
    assert png_chunk_types(data) == [b"IHDR", b"IDAT", b"IEND"]
    assert np.array_equal(pixels(Image.open(io.BytesIO(data))), pixels(original))


def test_encode_jpeg_writes_no_metadata():
    data = encode_jpeg(_with_metadata(noise()))
    # Only JFIF's APP0, the quantisation and Huffman tables and the frame header.
    assert set(jpeg_marker_types(data)) <= {0xE0, 0xDB, 0xC4, 0xC0}


def test_encode_jpeg_flattens_alpha_onto_white():
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 4, 8))
    decoded = Image.open(io.BytesIO(encode_jpeg(image)))
    assert decoded.mode == "RGB"
    assert np.abs(pixels(decoded)[:, 6:] - 255).max() <= 2
    assert np.abs(pixels(decoded)[:, :2] - (0, 0, 255)).max() <= 4


def test_encode_jpeg_keeps_greyscale_greyscale():
    image = Image.new("LA", (8, 8), (0, 0))
    image.paste((30, 255), (0, 0, 4, 8))
    decoded = Image.open(io.BytesIO(encode_jpeg(image)))
    assert decoded.mode == "L"
    assert abs(decoded.getpixel((1, 1)) - 30) <= 2
    assert decoded.getpixel((6, 1)) >= 253


def test_encode_jpeg_quality_trades_size_for_fidelity():
    image = noise(size=(64, 64))
    assert len(encode_jpeg(image, quality=30)) < len(encode_jpeg(image, quality=95))


@pytest.mark.parametrize(("size", "expected"), [((1000, 500), (480, 240)), ((300, 200), (300, 200))])
def test_thumbnails_fit_the_size_and_are_never_enlarged(size, expected):
    thumbnail = Image.open(io.BytesIO(make_thumbnail(Image.new("RGBA", size, RED + (255,)))))
    assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("JPEG", "RGB", expected)


# Model input and output


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_split_alpha_then_merge_like_restores_the_image(mode):
    original = noise(mode)
    rgb, alpha = split_alpha(original)
    assert (rgb.shape, rgb.dtype) == ((20, 30, 3), np.uint8)
    assert (alpha is not None) == mode.endswith("A")
    restored = merge_like(rgb, original, alpha)
    assert restored.mode == mode
    assert np.array_equal(pixels(restored), pixels(original))


def test_merge_like_keeps_the_models_colours_for_rgb_and_greys_them_for_greyscale():
    model_output = np.zeros((20, 30, 3), dtype=np.uint8)
    model_output[..., 0] = 255
    assert merge_like(model_output, noise("RGB"), None).getpixel((0, 0)) == (255, 0, 0)
    assert merge_like(model_output, noise("L"), None).getpixel((0, 0)) == 76  # red's luma


@pytest.mark.parametrize(
    "model_output",
    [np.zeros((20, 30, 3), dtype=np.float32), np.zeros((30, 20, 3), dtype=np.uint8)],
    ids=["float", "transposed"],
)
def test_merge_like_refuses_output_that_does_not_match(model_output):
    with pytest.raises(ValueError, match="uint8 array of shape"):
        merge_like(model_output, noise(), None)
