"""A small client for the Unsplash API: search, the required download tracking,
and image downloads, within an hourly request budget.

https://unsplash.com/documentation: authenticate with `Client-ID`, send
`Accept-Version: v1`, call each photo's `download_location` when it is used, and
credit the photographer with links carrying utm_source and utm_medium=referral."""

from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from training.ingestion import budget
from training.ingestion.budget import BudgetSpent

API = "unsplash"
MAX_PER_PAGE = 30


class UnsplashStopped(Exception):
    """An answer that retrying will not fix (bad key, forbidden, unreachable): the job stops with this reason."""


class DownloadFailed(Exception):
    """One photo's image could not be fetched: that photo is skipped, the job goes on."""


@dataclass(frozen=True)
class UnsplashPhoto:
    id: str
    width: int
    height: int
    image_url: str
    download_location: str
    photographer: str
    photographer_url: str
    photo_url: str
    description: str

    def attribution(self) -> dict:
        return {
            "photographer": self.photographer,
            "photographer_url": with_referral(self.photographer_url),
            "photo_url": with_referral(self.photo_url),
            "source_name": "Unsplash",
            "source_url": with_referral("https://unsplash.com/"),
            "text": f"Photo by {self.photographer} on Unsplash",
        }


def with_referral(url: str) -> str:
    """Unsplash asks for links back to carry the app's name and utm_medium=referral."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({'utm_source': settings.UNSPLASH_APP_NAME, 'utm_medium': 'referral'})}"


def _session() -> requests.Session:
    retry = Retry(
        total=settings.UNSPLASH_RETRIES,
        backoff_factor=settings.UNSPLASH_BACKOFF_SECONDS,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def _photo(item: dict) -> UnsplashPhoto:
    user = item.get("user") or {}
    return UnsplashPhoto(
        id=item["id"],
        width=item.get("width") or 0,
        height=item.get("height") or 0,
        image_url=item["urls"][settings.UNSPLASH_IMAGE_VARIANT],
        download_location=item["links"]["download_location"],
        photographer=user.get("name") or user.get("username") or "Unknown",
        photographer_url=(user.get("links") or {}).get("html", "https://unsplash.com/"),
        photo_url=item["links"].get("html", "https://unsplash.com/"),
        description=item.get("alt_description") or item.get("description") or "",
    )


class UnsplashClient:
    def __init__(self, access_key: str | None = None, api_url: str | None = None) -> None:
        self.access_key = access_key if access_key is not None else settings.UNSPLASH_ACCESS_KEY
        if not self.access_key:
            raise UnsplashStopped("No Unsplash access key: set UNSPLASH_ACCESS_KEY.")
        self.api_url = (api_url or settings.UNSPLASH_API_URL).rstrip("/")
        self.session = _session()

    def _api_get(self, url: str, params: dict | None = None) -> dict:
        """One request against the budget; raises BudgetSpent or UnsplashStopped."""
        budget.spend(API, settings.UNSPLASH_HOURLY_BUDGET)
        headers = {"Authorization": f"Client-ID {self.access_key}", "Accept-Version": "v1"}
        try:
            response = self.session.get(url, params=params, headers=headers, timeout=settings.UNSPLASH_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise UnsplashStopped(f"Unsplash could not be reached ({exc.__class__.__name__}).") from exc
        if response.status_code == 403 and "rate limit exceeded" in response.text.lower():
            raise BudgetSpent(budget.exhaust(API, settings.UNSPLASH_HOURLY_BUDGET))
        if response.status_code in (401, 403):
            raise UnsplashStopped(f"Unsplash refused the request ({response.status_code}): {response.text[:200]}")
        if response.status_code >= 400:
            raise UnsplashStopped(f"Unsplash answered {response.status_code} to {url}.")
        if response.headers.get("X-Ratelimit-Remaining") == "0":
            budget.exhaust(API, settings.UNSPLASH_HOURLY_BUDGET)
        return response.json()

    def search(self, query: str, page: int, per_page: int = MAX_PER_PAGE) -> tuple[list[UnsplashPhoto], int]:
        """One page of search results and the number of pages."""
        answer = self._api_get(
            f"{self.api_url}/search/photos", {"query": query, "page": page, "per_page": min(per_page, MAX_PER_PAGE)}
        )
        return [_photo(item) for item in answer.get("results", [])], int(answer.get("total_pages") or 0)

    def track_download(self, photo: UnsplashPhoto) -> None:
        self._api_get(photo.download_location)

    def fetch_image(self, photo: UnsplashPhoto) -> bytes:
        """The image file itself: from Unsplash's image CDN, which the budget does not count."""
        try:
            response = self.session.get(photo.image_url, timeout=settings.UNSPLASH_TIMEOUT_SECONDS, stream=True)
            response.raise_for_status()
            content = response.raw.read(settings.DATASET_MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise DownloadFailed(f"The image could not be downloaded ({exc.__class__.__name__}).") from exc
        return content
