from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundWidget
from django.template.defaultfilters import filesizeformat

from inference import kernels, speed
from inference.images import ACCEPTED_TYPES as ACCEPTED_TYPE_NAMES
from inference.models import Choice, ModelVersion, ServingChoice

from . import jobs, try_it
from .uploads import CHOICE_HELP, choice_refusal, unknown_choice

# What the file pickers offer, by type and, for HEIC whose type browsers often do not know,
# by extension; the page's script checks files against the same lists before sending.
ACCEPTED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/heic", "image/heif")
ACCEPTED_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".heic", ".heif")
ACCEPT = ",".join(ACCEPTED_MEDIA_TYPES + ACCEPTED_EXTENSIONS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file field that takes several files, as Django's docs show."""

    def __init__(self, *args, **kwargs) -> None:
        # Empty files reach the image checks, which reject them one by one.
        kwargs.setdefault("allow_empty_file", True)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single = super().clean
        files = data if isinstance(data, (list, tuple)) else [data]
        return [single(file, initial) for file in files if file is not None] or [single(None, initial)]


class ChoiceRadioSelect(forms.RadioSelect):
    """Radio buttons some of which are disabled: the learned choices that no model serves."""

    disabled_values: frozenset[str] = frozenset()

    def create_option(self, name, value, *args, **kwargs) -> dict:
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


@dataclass(frozen=True)
class ModelOption:
    """One radio button of the choice, with what the page says about it."""

    radio: BoundWidget
    help: str  # what the choice is for (CHOICE_HELP)
    learned: bool  # served by a model an administrator sets (best, fast)
    version: ModelVersion | None  # that model, None while none serves it or for the kernel engine's choices
    speed: str  # "about 40 s per megapixel on this site's workers (CPU, float32)", or "" when unknown


def describe_speed(version: ModelVersion) -> str:
    measured = speed.seconds_per_megapixel(version)
    if measured is None:
        return ""
    kind, seconds = measured
    figure = f"{seconds:.2g}" if seconds < 10 else f"{seconds:.0f}"
    if kind in version.speed:
        return f"about {figure} s per megapixel on this site's workers ({speed.describe_key(kind)})"
    return f"about {figure} s per megapixel, as measured for its model card ({kind})"


UNKNOWN_CHOICE = unknown_choice("%(value)s")


def kernel_engine_speed() -> str:
    return f"about {kernels.ESTIMATION_SECONDS:g} s plus {kernels.FULL.seconds_per_megapixel:g} s per megapixel"


def limits_help() -> str:
    return (
        f"{ACCEPTED_TYPE_NAMES}, of at most {filesizeformat(settings.UPLOAD_MAX_BYTES)}"
        f" and {settings.UPLOAD_MAX_PIXELS / 1e6:g} megapixels, at least {settings.UPLOAD_MIN_SIDE} pixels on each side."
    )


class ModelChoiceForm(forms.Form):
    """A form whose photos are deblurred as the user chooses: Auto (the default), a learned
    choice's model, or the kernel engine."""

    # Not required: a disabled radio button is not sent, and neither is a choice by a client
    # that does not know about choices; either way the default is taken.
    model = forms.ChoiceField(
        label="Deblur with",
        choices=Choice.choices,
        required=False,
        widget=ChoiceRadioSelect,
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.serving = ServingChoice.models_by_key()
        self.fields["model"].initial = Choice.AUTO
        self.fields["model"].widget.disabled_values = frozenset(key for key, version in self.serving.items() if version is None)

    def clean_model(self) -> str:
        choice = self.cleaned_data["model"] or self.fields["model"].initial
        refusal = choice_refusal(choice, self.serving)
        if refusal:
            raise forms.ValidationError(refusal)
        return choice

    def model_options(self) -> list[ModelOption]:
        options = []
        for radio in self["model"]:
            key = radio.data["value"]
            learned = key in self.serving
            version = self.serving.get(key)
            if learned:
                described = describe_speed(version) if version else ""
            elif key == Choice.SHAKE:
                described = kernel_engine_speed()
            else:
                described = f"{kernel_engine_speed()} with the kernel engine"
            options.append(ModelOption(radio, CHOICE_HELP[key], learned, version, described))
        return options


# Said where a photo is uploaded, on the page and in the API.
KEEP_LOCATION_HELP = "The deblurred photos keep the location (GPS) the camera recorded; without it, it is removed."


class UploadForm(ModelChoiceForm):
    images = MultipleImageField(label="Blurred photos")
    keep_location = forms.BooleanField(label="Keep the location in the results", required=False, help_text=KEEP_LOCATION_HELP)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].help_text = f"Up to {settings.UPLOAD_MAX_FILES} photos at a time. {limits_help()}"

    @staticmethod
    def limits() -> dict:
        """What the page's script checks before sending; the server checks it all again."""
        return {
            "maxFiles": settings.UPLOAD_MAX_FILES,
            "maxBytes": settings.UPLOAD_MAX_BYTES,
            "minSide": settings.UPLOAD_MIN_SIDE,
            "types": ACCEPTED_MEDIA_TYPES,
            "extensions": ACCEPTED_EXTENSIONS,
            "typeNames": ACCEPTED_TYPE_NAMES,
        }

    def clean_images(self) -> list:
        images = self.cleaned_data["images"]
        if len(images) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(f"At most {settings.UPLOAD_MAX_FILES} files at a time; you sent {len(images)}.")
        return images

    def references(self) -> list:
        """The optional sharp reference of each image, by position (`reference_<i>`)."""
        return [self.files.get(f"reference_{i}") for i in range(len(self.cleaned_data["images"]))]


class TryItForm(ModelChoiceForm):
    image = forms.FileField(
        label="A sharp photo",
        allow_empty_file=True,  # refused by the image checks, with their reason
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )
    kind = forms.ChoiceField(label="Blur", choices=try_it.KINDS.items(), initial="motion", widget=forms.RadioSelect)
    strength = forms.IntegerField(
        label="Strength",
        min_value=5,
        max_value=100,
        initial=50,
        widget=forms.NumberInput(attrs={"type": "range", "step": 5, "list": "strength-marks"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image"].help_text = (
            f"{limits_help()} Photos over {try_it.MAX_PIXELS / 1e6:g} megapixels are scaled down to that first."
        )


class StrengthForm(forms.Form):
    strength = forms.FloatField(min_value=0.0, max_value=1.0)


class RerunForm(forms.Form):
    model = forms.ChoiceField(choices=Choice.choices, error_messages={"invalid_choice": UNKNOWN_CHOICE})

    def clean_model(self) -> str:
        choice = self.cleaned_data["model"]
        if refusal := jobs.rerun_refusal(choice):
            raise forms.ValidationError(refusal)
        return choice
