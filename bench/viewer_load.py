"""What the photo page of a 12-megapixel photo loads, and how long it takes, against a
running site (`make run`): it signs up a new user, uploads a 4000x3000 photo with Fast,
waits for the result, then times the page's load (screen-sized previews) and the switch
to full resolution at 100 %. Run: .venv/bin/python bench/viewer_load.py PHOTO [--site URL]"""

import argparse
import re
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

PASSWORD = "a long and unusual passphrase 42"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", type=Path, help="any photo; it is resized to 4000x3000")
    parser.add_argument("--site", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    big = Path(tempfile.mkdtemp()) / "12mp.jpg"
    Image.open(args.photo).convert("RGB").resize((4000, 3000), Image.LANCZOS).save(big, quality=92)
    user = f"bench{int(time.time())}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(300_000)
        page.goto(f"{args.site}/accounts/signup/")
        for field, value in (("username", user), ("email", f"{user}@example.com"), ("password1", PASSWORD), ("password2", PASSWORD)):
            page.fill(f"input[name={field}]", value)
        page.click("form button[type=submit]")
        page.goto(f"{args.site}/photos/upload/")
        page.set_input_files("input[type=file][name=images]", str(big))
        page.check("input[name=model][value=fast]")
        page.click("#upload-button")
        page.wait_for_url(re.compile(r"/photos/(\?.*)?$"))
        url = args.site + page.locator(".photo-card a.name").first.get_attribute("href")
        while page.request.get(url + "status").json()["status"] not in ("succeeded", "failed"):
            time.sleep(2)
        sizes: dict[str, int] = {}
        page.on("response", lambda r: sizes.__setitem__(r.url.rsplit("/", 1)[-1], len(r.body())) if "/files/" in r.url else None)
        start = time.perf_counter()
        page.goto(url, wait_until="load")
        print(f"page with both previews: {time.perf_counter() - start:.2f} s, {dict(sizes)}")
        start = time.perf_counter()
        page.click("#viewer-zoom [data-zoom='1']")
        page.wait_for_function("document.querySelector('#result-image').src.includes('/output')")
        page.wait_for_function("['#result-image', '#original-image'].every((s) => document.querySelector(s).complete)")
        print(f"full resolution at 100 %: {time.perf_counter() - start:.2f} s, {dict(sizes)}")
        browser.close()


if __name__ == "__main__":
    main()
