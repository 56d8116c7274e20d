"""Issue 21's heavy downloads, timed where the work now runs: in the downloads worker.
30 photos of 12 MP at strength 0.5, each with its original and full-strength result in the
media store as the deblurring worker leaves them; then every saved strength rendered
(gallery.blends.render), then one ZIP of the 30 built (gallery.archive.build) and read back
whole, every entry's CRC checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/deblur_zipbench VAR_DIR=/tmp/zipbench \\
        .venv/bin/python bench/zip_downloads.py [--photos 30]

It migrates that database and writes some 2 GB under VAR_DIR; both are its own.
"""

import argparse
import time
import zipfile

import common  # noqa: F401  (the project on the path, Django set up)
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command

from gallery import archive, blends
from gallery.models import Archive, Photo, Restoration
from probe.site import finished_photos

# A camera photo's size: some 20 MB as a PNG of probe.corpus.photo_like's content.
SIZE = (4000, 3000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=30)
    count = parser.parse_args().photos
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="zipbench")
    Photo.all_objects.filter(owner=owner).delete()

    started = time.perf_counter()
    photos = finished_photos(owner, count, SIZE, strength=0.5)
    print(f"{count} photos of {SIZE[0]}x{SIZE[1]} stored in {time.perf_counter() - started:.0f} s")

    renders = []
    for photo in photos:
        started = time.perf_counter()
        blends.render(photo.restoration.pk)
        renders.append(time.perf_counter() - started)
    assert all(blends.is_ready(job) for job in Restoration.objects.filter(photo__owner=owner))
    print(f"renders at strength 0.5: median {np.median(renders):.2f} s, worst {max(renders):.2f} s a photo "
          f"(PNG, JPEG and WebP each)")

    made = archive.request(owner, photos)
    started = time.perf_counter()
    archive.build(str(made.pk))
    built = time.perf_counter() - started
    made = Archive.objects.get(pk=made.pk)
    with default_storage.open(made.file.name) as stored, zipfile.ZipFile(stored) as zipped:
        entries = len(zipped.namelist())
        assert zipped.testzip() is None  # every entry read back, its CRC checked
    print(f"ZIP of {count} photos: {made.status}, {made.size / 1e9:.2f} GB, {entries} entries, built in {built:.0f} s "
          f"({made.size / 1e6 / built:.0f} MB/s); every CRC checked")


if __name__ == "__main__":
    main()
