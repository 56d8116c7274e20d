from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundWidget

from inference import speed
from inference.models import ModelVersion, ServingChoice

from .uploads import choice_refusal


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


class ChoiceRadioSelect(forms.RadioSelect):
    """Radio buttons some of which are disabled: the model choices that no model serves."""

    disabled_values: frozenset[str] = frozenset()

    def create_option(self, name, value, *args, **kwargs) -> dict:
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


@dataclass(frozen=True)
class ModelOption:
    """One radio button of the model choice, with what the page says about it."""

    radio: BoundWidget
    version: ModelVersion | None
    speed: str  # "about 40 s per megapixel on this site's CPU workers", or "" when unknown


def describe_speed(version: ModelVersion) -> str:
    measured = speed.seconds_per_megapixel(version)
    if measured is None:
        return ""
    kind, seconds = measured
    figure = f"{seconds:.2g}" if seconds < 10 else f"{seconds:.0f}"
    if kind in version.speed:
        return f"about {figure} s per megapixel on this site's {kind.upper()} workers"
    return f"about {figure} s per megapixel, as measured for its model card ({kind})"


class UploadForm(forms.Form):
    images = MultipleImageField(label="Blurred photos", help_text="JPEG, PNG, WebP, TIFF or HEIC.")
    # Not required: a disabled radio button is not sent, and neither is a choice by a client
    # that does not know about choices; either way the default is taken.
    model = forms.ChoiceField(label="Model", choices=ServingChoice.Key.choices, required=False, widget=ChoiceRadioSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].help_text += (
            f" Up to {settings.UPLOAD_MAX_FILES} files of at most {settings.UPLOAD_MAX_BYTES // 2**20} MB"
            f" and {settings.UPLOAD_MAX_PIXELS / 1e6:g} megapixels each."
        )
        self.serving = ServingChoice.models_by_key()
        served = [key for key, version in self.serving.items() if version is not None]
        self.fields["model"].initial = served[0] if served else ServingChoice.Key.BEST
        self.fields["model"].widget.disabled_values = frozenset(self.serving) - set(served)

    def clean_model(self) -> str:
        choice = self.cleaned_data["model"] or self.fields["model"].initial
        refusal = choice_refusal(choice, self.serving)
        if refusal:
            raise forms.ValidationError(refusal)
        return choice

    def model_options(self) -> list[ModelOption]:
        options = []
        for radio in self["model"]:
            version = self.serving[radio.data["value"]]
            options.append(ModelOption(radio, version, describe_speed(version) if version else ""))
        return options

    def clean_images(self) -> list:
        images = self.cleaned_data["images"]
        if len(images) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(f"At most {settings.UPLOAD_MAX_FILES} files at a time; you sent {len(images)}.")
        return images

    def references(self) -> list:
        """The optional sharp reference of each image, by position (`reference_<i>`)."""
        return [self.files.get(f"reference_{i}") for i in range(len(self.cleaned_data["images"]))]
