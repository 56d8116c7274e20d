
from django import forms
from django.conf import settings
from django.core.validators import validate_slug

from inference import architectures as nets
from inference.models import ModelVersion

from training.ingestion import benchmark_guard, roots
from training.ingestion.datasets import training_rows
from training.degrade import SYNTHESES
from training.models import Dataset, DatasetImage, IngestJob
from training.config import TrainConfig

Source = IngestJob.Source
# What patch sides must be multiples of: the U-Nets' downsampling (nets.size_multiple of the
# default sizes); SRN pads itself.
PATCH_MULTIPLES = {nets.NAFNET: 8, nets.DEBLURGAN: 4, nets.SRN: 1}


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
        try:
            return str(roots.allowed_folder(path))
        except roots.FolderRefused as refused:
            raise forms.ValidationError(str(refused)) from refused

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


class RunForm(forms.Form):
    """A new training run: what `manage.py train` takes, chosen on a page."""

    label = forms.CharField(max_length=200, required=False, help_text="What this run tries, in a few words.")
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.all(), widget=forms.CheckboxSelectMultiple, help_text="Sharp photo datasets."
    )
    architecture = forms.ChoiceField(choices=ModelVersion.Architecture.choices, initial=nets.NAFNET)
    init_model = forms.ModelChoiceField(
        queryset=ModelVersion.objects.filter(retired_at=None),
        required=False,
        empty_label="Random initialisation",
        label="Initial weights",
        help_text="Fine-tune a registered model of the same architecture.",
    )
    synthesis = forms.ChoiceField(
        choices=[(name, name) for name in SYNTHESES], initial="default", help_text="How training pairs are blurred."
    )
    steps = forms.IntegerField(min_value=1, max_value=1_000_000, initial=20000, help_text="Content-loss steps.")
    gan_steps = forms.IntegerField(
        min_value=0, max_value=1_000_000, initial=0, label="Adversarial steps", help_text="WGAN-GP fine-tuning after them; 0 = off."
    )
    batch = forms.IntegerField(min_value=1, max_value=256, initial=8)
    patch = forms.IntegerField(min_value=32, max_value=1024, initial=128, help_text="Training patch side, pixels.")
    lr = forms.FloatField(min_value=1e-7, max_value=1.0, initial=1e-3, label="Learning rate")
    seed = forms.IntegerField(min_value=0, initial=0)

    def clean_datasets(self):
        chosen = self.cleaned_data["datasets"]
        for dataset in chosen:
            if dataset.kind == Dataset.Kind.PAIRS:
                raise forms.ValidationError(f"{dataset.name} holds blurred/sharp pairs: train on sharp photos; "
                                            "pairs serve as benchmarks.")
            if dataset.is_benchmark:
                raise forms.ValidationError(f"{dataset.name} is a benchmark: models are measured on it, never trained on it.")
        # Checked now, not only when the run starts: a dataset may have become a benchmark since.
        benchmark_guard.mark_matches(training_rows(chosen), benchmark_guard.fingerprints())
        trainable = training_rows(chosen).values("checksum").distinct().count()
        needed = TrainConfig.n_holdout + 1
        if trainable < needed:
            matched = DatasetImage.objects.filter(dataset__in=chosen).exclude(benchmark_match="").count()
            benchmark = f" {matched} of their photos are benchmark images, never trained on." if matched else ""
            raise forms.ValidationError(
                f"These datasets hold {trainable} trainable photo(s); a run needs at least {needed} "
                f"({TrainConfig.n_holdout} are held out for validation).{benchmark}"
            )
        return chosen

    def clean(self) -> dict:
        data = super().clean()
        architecture, init = data.get("architecture"), data.get("init_model")
        if init is not None and architecture and init.architecture != architecture:
            self.add_error("init_model", f"{init.name} is {init.get_architecture_display()}; pick that architecture "
                                         "or another model.")
        patch = data.get("patch")
        multiple = PATCH_MULTIPLES.get(architecture, 1)
        if patch and patch % multiple:
            self.add_error("patch", f"{ModelVersion.Architecture(architecture).label} needs a multiple of {multiple}.")
        return data
