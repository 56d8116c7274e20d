"""Content Credentials (C2PA) on every result a person downloads: a manifest, signed with the
site's key and certificate (C2PA_KEY_FILE, C2PA_CERT_FILE), saying that Deblur made the image
from the original, an ingredient named with its SHA-256, by an AI-assisted edit: the action
c2pa.edited with IPTC's digital source type for trained algorithmic media, the method, model,
precision, strength and date. Signed in the worker, when a result or a blend is stored: a
download then serves the signed file as it is. `strip` takes the manifest out again, for a
download without it (?credentials=0).

`make run` makes a development pair (ensure_dev_pair): a signer certificate under a local CA
that no C2PA reader trusts, so readers say who signed but not that they are trusted."""

import datetime
import functools
import hashlib
import io
import logging
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import c2pa
from django.conf import settings
from PIL import Image

from inference.images import encode_jpeg, encode_png, encode_webp
from inference.models import Method

from .media import read_stored
from .models import Photo
from .names import FORMATS, download_name, original_download

log = logging.getLogger(__name__)

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATOR = "Deblur"
# The manifest's own thumbnails would repeat the picture the file is; without them a 12 MP
# JPEG signs in 30 ms instead of 200.
_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


@dataclass(frozen=True)
class Edit:
    """What was done to make a result, as its manifest says it."""

    method: str
    model: str
    precision: str
    strength: float
    when: datetime.datetime


@dataclass(frozen=True)
class Original:
    """The ingredient: the photo as its owner uploaded it."""

    content: bytes
    media_type: str
    name: str

    @functools.cached_property
    def sha256(self) -> str:
        # Named in every format's manifest and on the job's row: hashed once.
        return hashlib.sha256(self.content).hexdigest()


ENCODERS = {"png": encode_png, "jpeg": encode_jpeg, "webp": encode_webp}


def original_of(photo: Photo) -> Original:
    file, name = original_download(photo)
    return Original(read_stored(file), photo.given_type or "image/png", name)


def downloads_of(photo: Photo, image: Image.Image, edit: Edit, original: Original) -> dict[str, bytes]:
    """The result in each format people download (names.FORMATS): with the photo's metadata,
    and signed, `original` its ingredient."""
    return {fmt: signed(photo, image, fmt, edit, original) for fmt in FORMATS}


def signed(photo: Photo, image: Image.Image, fmt: str, edit: Edit, original: Original) -> bytes:
    content = ENCODERS[fmt](image, metadata=photo.metadata)
    return sign(content, FORMATS[fmt].media_type, title=download_name(photo, fmt), original=original, edit=edit)


def edit_of(job, strength: float) -> Edit:
    """What was done to make a finished job's result, at this strength."""
    return Edit(job.method, job.model_name, job.precision, strength=strength, when=job.finished_at)


def is_configured() -> bool:
    return Path(settings.C2PA_CERT_FILE).is_file() and Path(settings.C2PA_KEY_FILE).is_file()


def sign(content: bytes, media_type: str, *, title: str, original: Original, edit: Edit) -> bytes:
    """The result with its Content Credentials; as it is when the site has no signing pair."""
    if not is_configured():
        return content
    info = c2pa.C2paSignerInfo(
        settings.C2PA_ALGORITHM,
        Path(settings.C2PA_CERT_FILE).read_bytes(),
        Path(settings.C2PA_KEY_FILE).read_bytes(),
        None,
    )
    builder = c2pa.Builder.from_json(_manifest(title, media_type, edit), c2pa.Context(c2pa.Settings.from_dict(_SETTINGS)))
    ingredient = {
        "title": original.name,
        "relationship": "parentOf",
        "instance_id": "original",
        "metadata": {"org.deblur.sha256": original.sha256},
    }
    builder.add_ingredient(ingredient, original.media_type, io.BytesIO(original.content))
    signed = io.BytesIO()
    with c2pa.Signer.from_info(info) as signer:
        builder.sign(signer, media_type, io.BytesIO(content), signed)
    return signed.getvalue()


def _manifest(title: str, media_type: str, edit: Edit) -> dict:
    parameters = {"method": edit.method, "model": edit.model, "precision": edit.precision, "strength": edit.strength}
    edited = {
        "action": "c2pa.edited",
        "when": edit.when.isoformat(),
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": {"name": GENERATOR},
        "description": "Deblurred",
        "parameters": parameters,
    }
    if edit.method == Method.NONE:
        # Nothing could improve it: the file is the photo again, in another format; no AI edit.
        edited = {**edited, "action": "c2pa.transcoded", "description": "Left as it was"}
        del edited["digitalSourceType"]
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}}
    return {
        "claim_generator_info": [{"name": GENERATOR}],
        "title": title,
        "format": media_type,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [opened, edited]}}],
    }


def summary(original: Original, edit: Edit) -> dict:
    """What a result's manifest says, for its photo's page (kept on the job's row)."""
    certificate = _certificate_name()
    return {
        "signer": certificate,
        "ingredient": original.name,
        "sha256": original.sha256,
        **asdict(edit),
        "when": edit.when.isoformat(),
    }


def _certificate_name() -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    pem = Path(settings.C2PA_CERT_FILE).read_bytes()
    subject = x509.load_pem_x509_certificates(pem)[0].subject
    return ", ".join(attribute.value for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME) for attribute in subject.get_attributes_for_oid(oid))


# -- without the manifest ----------------------------------------------------------------


def strip(content: bytes, media_type: str) -> bytes:
    """The file without its C2PA manifest, the image data untouched: a JPEG's APP11 segments,
    a PNG's caBX chunk, a WebP's C2PA chunk."""
    return {"image/jpeg": _strip_jpeg, "image/png": _strip_png, "image/webp": _strip_webp}[media_type](content)


def _strip_jpeg(content: bytes) -> bytes:
    kept, position = [content[:2]], 2
    # Header segments up to the scan; the scan and all after it are copied as they are.
    while content[position + 1] != 0xDA:
        marker = content[position + 1]
        (length,) = struct.unpack(">H", content[position + 2 : position + 4])
        if marker != 0xEB:  # APP11: JUMBF boxes, where C2PA lives in a JPEG
            kept.append(content[position : position + 2 + length])
        position += 2 + length
    return b"".join([*kept, content[position:]])


def _strip_png(content: bytes) -> bytes:
    kept, position = [content[:8]], 8
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        end = position + 12 + length
        if content[position + 4 : position + 8] != b"caBX":
            kept.append(content[position:end])
        position = end
    return b"".join(kept)


def _strip_webp(content: bytes) -> bytes:
    kept, position = [], 12
    while position < len(content):
        fourcc, (length,) = content[position : position + 4], struct.unpack("<I", content[position + 4 : position + 8])
        end = position + 8 + length + length % 2
        if fourcc != b"C2PA":
            kept.append(content[position:end])
        position = end
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# -- a development signing pair ----------------------------------------------------------


def ensure_dev_pair() -> bool:
    """Write a development key and certificate chain where the settings look for them, unless
    they are there; whether it wrote them. C2PA wants a signer certificate issued by a CA, for
    signing (digitalSignature, emailProtection), so the chain is a local CA and its signer."""
    cert_file, key_file = Path(settings.C2PA_CERT_FILE), Path(settings.C2PA_KEY_FILE)
    if cert_file.is_file() and key_file.is_file():
        return False
    from cryptography.hazmat.primitives import serialization

    chain, key = _dev_chain()
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain))
    return True


def _dev_chain():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Deblur (development)")])

    def usage(**allowed: bool) -> x509.KeyUsage:
        flags = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
        return x509.KeyUsage(**{flag: allowed.get(flag, False) for flag in flags})

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Deblur development CA"))
        .issuer_name(name("Deblur development CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer = (
        x509.CertificateBuilder()
        .subject_name(name("Deblur development signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return [signer, ca], key
