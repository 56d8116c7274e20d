import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")

app = Celery("deblursite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def log_inference_precision(**kwargs) -> None:
    # The CPU decides the precision (inference.precision): say which this worker got.
    from django.conf import settings

    from inference import precision

    logging.getLogger(__name__).info(precision.why(settings.INFERENCE_PRECISION))
