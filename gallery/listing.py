"""The gallery's filters and sort orders, as GET parameters so that pagination and links
keep them."""

from django import forms
from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from inference.models import Choice

from .models import Photo, Restoration

# sort key -> (label, ordering); the newest first breaks ties.
SORTS = {
    "newest": ("Newest first", ["-created"]),
    "oldest": ("Oldest first", ["created"]),
    "name": ("Name", [Lower("original_name"), "-created"]),
    "psnr-gain": ("Biggest PSNR gain", [F("psnr_gain").desc(nulls_last=True), "-created"]),
}


class GalleryQuery(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Restoration.Status.choices], required=False)
    model = forms.ChoiceField(choices=[("", "Any choice"), *Choice.choices], required=False)
    sort = forms.ChoiceField(choices=[(key, label) for key, (label, _) in SORTS.items()], required=False)

    def __init__(self, data, *, with_references: bool) -> None:
        super().__init__(data)
        if not with_references:
            # A PSNR gain needs a sharp reference: without any, the order would mean nothing.
            self.fields["sort"].choices = [choice for choice in self.fields["sort"].choices if choice[0] != "psnr-gain"]

    def photos(self, photos: QuerySet[Photo]) -> QuerySet[Photo]:
        """The photos that pass the filters, in the chosen order; an invalid parameter is ignored."""
        self.is_valid()
        chosen = self.cleaned_data
        if chosen.get("status"):
            photos = photos.filter(restoration__status=chosen["status"])
        if chosen.get("model"):
            photos = photos.filter(restoration__choice=chosen["model"])
        _, ordering = SORTS[chosen.get("sort") or "newest"]
        return photos.annotate(
            psnr_gain=F("restoration__psnr_after") - F("restoration__psnr_before")
        ).order_by(*ordering)

    @property
    def is_filtered(self) -> bool:
        return bool(self.cleaned_data.get("status") or self.cleaned_data.get("model"))


def has_references(photos: QuerySet[Photo]) -> bool:
    return photos.filter(restoration__psnr_after__isnull=False).exists()
