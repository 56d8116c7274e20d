"""Real image files, good and bad, built in memory for tests, and readers for the
metadata containers the tests inspect."""

import io
import struct
import zlib

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms

# So that encode() can write HEIC even where inference.images is not imported.
pillow_heif.register_heif_opener()


def encode(image: Image.Image, image_format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def noise(mode: str = "RGB", size: tuple[int, int] = (30, 20), seed: int = 0) -> Image.Image:
    """Random pixels (and alpha), so that any change a decoder or encoder makes shows."""
    width, height = size
    values = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    return Image.fromarray(values).convert(mode)


def png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", zlib.crc32(chunk_type + data))


def png(width: int, height: int, bit_depth: int, colour_type: int, pixel_rows: list[bytes]) -> bytes:
    """A PNG written by hand, for what Pillow cannot write: 16-bit RGB, or a header
    that promises more pixels than the file holds."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    image_data = zlib.compress(b"".join(b"\x00" + row for row in pixel_rows))  # filter type 0 on each row
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", image_data)
        + png_chunk(b"IEND", b"")
    )


def png_chunk_types(data: bytes) -> list[bytes]:
    types, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        types.append(data[position + 4 : position + 8])
        position += 12 + length
    return types


def rgb16_tiff(values: np.ndarray) -> bytes:
    """An uncompressed 16-bit RGB TIFF (little-endian), which Pillow cannot write."""
    height, width, _ = values.shape
    pixels = values.astype("<u2").tobytes()
    entry_count = 9
    bits_offset = 8 + 2 + entry_count * 12 + 4
    pixels_offset = bits_offset + 6
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 3, bits_offset),  # BitsPerSample: three SHORTs, stored after the IFD
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 2),  # PhotometricInterpretation: RGB
        (273, 4, 1, pixels_offset),  # StripOffsets
        (277, 3, 1, 3),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, len(pixels)),  # StripByteCounts
    ]
    ifd = struct.pack("<H", entry_count)
    for tag, field_type, count, value in entries:
        packed_value = struct.pack("<HH", value, 0) if field_type == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, field_type, count) + packed_value
    ifd += struct.pack("<I", 0)  # no next IFD
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<HHH", 16, 16, 16) + pixels


def jpeg_marker_types(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of the image data."""
    markers, position = [], 2
    while data[position + 1] != 0xDA:  # SOS
        markers.append(data[position + 1])
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers


def _srgb_profile() -> tuple[bytearray, dict[bytes, int]]:
    """LittleCMS's sRGB profile, to be edited, and where each tag's entry is in its tag table
    (the entry's signature, then its data's offset and size)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (tag_count,) = struct.unpack(">I", profile[128:132])
    return profile, {bytes(profile[start : start + 4]): start for start in range(132, 132 + 12 * tag_count, 12)}


def _named(profile: bytearray, name: str) -> bytes:
    # The decoder leaves profiles that call themselves sRGB alone.
    return bytes(profile).replace("sRGB".encode("utf-16-be"), name.encode("utf-16-be"))


def swapped_primaries_icc() -> bytes:
    """An RGB profile whose red and green primaries are sRGB's green and red: a pure red
    pixel tagged with it is sRGB green, which no profile-blind decoder gives."""
    profile, entries = _srgb_profile()
    red, green = entries[b"rXYZ"] + 4, entries[b"gXYZ"] + 4  # each entry's offset and size
    profile[red : red + 8], profile[green : green + 8] = profile[green : green + 8], profile[red : red + 8]
    return _named(profile, "Swap")


def display_p3_icc() -> bytes:
    """A Display P3 profile, as iPhones and Macs embed: sRGB's tone curves with P3's wider
    primaries (Apple's D50-adapted colorants), so that a saturated P3 colour is outside sRGB."""
    profile, entries = _srgb_profile()
    colorants = {b"rXYZ": (0.5151, 0.2412, -0.0011), b"gXYZ": (0.2920, 0.6922, 0.0419), b"bXYZ": (0.1571, 0.0666, 0.7841)}
    for tag, xyz in colorants.items():
        (offset,) = struct.unpack_from(">I", profile, entries[tag] + 4)
        # An XYZType: its signature, 4 reserved bytes, then X, Y, Z as s15Fixed16Number.
        profile[offset + 8 : offset + 20] = struct.pack(">3i", *(round(value * 65536) for value in xyz))
    # The same bytes on every call: LittleCMS stamps a new profile with the time it was made.
    profile[24:36] = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
    return _named(profile, "DiP3")


def exif_with_mistyped_gps_altitude(orientation: int) -> bytes:
    """EXIF, as cameras' buggy software writes it, whose GPS altitude is text instead
    of a number: Pillow reads it, but fails to write it back."""
    header = b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 8)
    first_ifd = (
        struct.pack(">H", 2)
        + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)  # Orientation, SHORT
        + struct.pack(">HHII", 0x8825, 4, 1, 38)  # GPSInfo, LONG: the offset of the GPS IFD
        + struct.pack(">I", 0)
    )
    gps_ifd = struct.pack(">H", 1) + struct.pack(">HHI4s", 6, 2, 2, b"N\x00\x00\x00") + struct.pack(">I", 0)
    return header + first_ifd + gps_ifd


def jpeg_with_scans(count: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """A progressive JPEG whose last scan is repeated until it has `count` scans: cheap to
    send, and every scan costs a pass over the whole image to decode."""
    data = encode(Image.new("L", size, 128), "JPEG", progressive=True)
    last_scan = data.rindex(b"\xff\xda")
    scan, end = data[last_scan:-2], data[-2:]
    return data[:last_scan] + scan * (count - data.count(b"\xff\xda") + 1) + end


def tiff_with_pages(count: int) -> bytes:
    """A little-endian TIFF whose 64x64 first page is followed by `count - 1` tiny pages (one
    tag each), chained: Pillow's n_frames walks every one of them."""
    data = bytearray(encode(Image.new("L", (64, 64), 77), "TIFF"))
    assert data[:2] == b"II"
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    next_pointer = first + 2 + entries * 12
    for _ in range(count - 1):
        offset = len(data) + len(data) % 2
        data += b"\0" * (offset - len(data))
        struct.pack_into("<I", data, next_pointer, offset)
        # NewSubfileType (254), LONG, 1 value: 1 (a reduced image), then the next IFD's offset.
        data += struct.pack("<HHHII", 1, 254, 4, 1, 1) + struct.pack("<I", 0)
        next_pointer = offset + 2 + 12
    return bytes(data)


def load_pixels(data: bytes) -> tuple[int, int]:
    """Decode a file with Pillow alone, past every check of inference.images: what a decoder
    does with a file that slipped through them."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


# Colours inside both sRGB and Display P3, so that they survive the round trip through sRGB.
IN_GAMUT = ((180, 120, 90), (60, 110, 160), (200, 200, 190), (40, 40, 40))


def camera_jpeg(size: tuple[int, int] = (96, 64), orientation: int = 6) -> bytes:
    """A JPEG as a phone writes one: camera, date, orientation, GPS and a Display P3 profile,
    of four flat colour blocks (IN_GAMUT), stored sideways (`orientation`)."""
    width, height = size
    image = Image.new("RGB", size)
    for index, colour in enumerate(IN_GAMUT):
        image.paste(colour, (index * width // 4, 0, (index + 1) * width // 4, height))
    exif = Image.Exif()
    exif.update({ExifTags.Base.Make: "Canon", ExifTags.Base.Model: "EOS R6", ExifTags.Base.Orientation: orientation})
    described = exif.get_ifd(ExifTags.IFD.Exif)
    described.update({ExifTags.Base.DateTimeOriginal: "2026:11:30 10:11:12", ExifTags.Base.ExifImageWidth: width, ExifTags.Base.ExifImageHeight: height})
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    return encode(image, "JPEG", quality=95, exif=exif.tobytes(), icc_profile=display_p3_icc())
