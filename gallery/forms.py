from django import forms
from django.conf import settings


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file field that takes several files, as Django's docs show."""

    def __init__(self, *args, **kwargs) -> None:
        # Empty files reach the image checks, which reject them one by one.
        kwargs.setdefault("allow_empty_file", True)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/tiff,image/heic,image/heif"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single = super().clean
        files = data if isinstance(data, (list, tuple)) else [data]
        return [single(file, initial) for file in files if file is not None] or [single(None, initial)]


class UploadForm(forms.Form):
    images = MultipleImageField(label="Blurred photos", help_text="JPEG, PNG, WebP, TIFF or HEIC.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].help_text += (
            f" Up to {settings.UPLOAD_MAX_FILES} files of at most {settings.UPLOAD_MAX_BYTES // 2**20} MB"
            f" and {settings.UPLOAD_MAX_PIXELS / 1e6:g} megapixels each."
        )

    def clean_images(self) -> list:
        images = self.cleaned_data["images"]
        if len(images) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(f"At most {settings.UPLOAD_MAX_FILES} files at a time; you sent {len(images)}.")
        return images

    def references(self) -> list:
        """The optional sharp reference of each image, by position (`reference_<i>`)."""
        return [self.files.get(f"reference_{i}") for i in range(len(self.cleaned_data["images"]))]
