from pathlib import Path

from django import forms
from django.conf import settings
from django.core.validators import validate_slug

from .models import Dataset, IngestJob

Source = IngestJob.Source


class IngestForm(forms.Form):
    source = forms.ChoiceField(choices=Source.choices, widget=forms.RadioSelect, initial=Source.FOLDER)
    dataset = forms.CharField(
        max_length=100, validators=[validate_slug], help_text="An existing dataset, or a new name (letters, digits, -)."
    )
    query = forms.CharField(max_length=200, required=False, help_text="Unsplash: what to search for.")
    count = forms.IntegerField(min_value=1, max_value=5000, required=False, help_text="Unsplash: photos to keep.")
    licence_basis = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Unsplash: the permission that allows training on these photos. Leave empty and they serve "
        "only as demo and gallery material.",
    )
    path = forms.CharField(max_length=500, required=False, help_text="Folder on the server.")
    archive = forms.FileField(required=False, help_text="A zip of photos.")
    licence = forms.CharField(max_length=255, required=False, help_text="The licence the photos are under.")

    def clean_path(self) -> str:
        path = self.cleaned_data["path"].strip()
        if not path:
            return path
        folder = Path(path).resolve()
        roots = [Path(root).resolve() for root in settings.INGEST_FOLDER_ROOTS]
        if not any(folder == root or root in folder.parents for root in roots):
            raise forms.ValidationError(f"Folders can be imported from {', '.join(map(str, roots))} only.")
        if not folder.is_dir():
            raise forms.ValidationError("There is no such folder on the server.")
        return str(folder)

    def clean(self) -> dict:
        data = super().clean()
        source = data.get("source")
        required = {
            Source.UNSPLASH: ["query", "count"],
            Source.FOLDER: ["path", "licence"],
            Source.PAIRS: ["path"],
            Source.UPLOAD: ["archive", "licence"],
        }.get(source, [])
        if source == Source.UNSPLASH and not settings.UNSPLASH_ACCESS_KEY:
            self.add_error("source", "Unsplash needs an access key: set UNSPLASH_ACCESS_KEY in the environment.")
        for name in required:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "Needed for this source.")
        name = data.get("dataset")
        existing = Dataset.objects.filter(name=name).first() if name else None
        kind = Dataset.Kind.PAIRS if source == Source.PAIRS else Dataset.Kind.PHOTOS
        if existing is not None and existing.kind != kind:
            self.add_error("dataset", f"{name} holds {existing.get_kind_display().lower()}; pick another dataset.")
        data["kind"] = kind
        return data
