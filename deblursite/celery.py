import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deblursite.settings")

app = Celery("deblursite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def log_inference_precision(sender, **kwargs) -> None:
    # The hardware decides the precision (inference.precision): say which this worker got.
    # Only deblurring workers load TensorFlow to ask the GPU.
    from django.conf import settings

    from gallery.queueing import QUEUES
    from inference import precision

    if not set(QUEUES) & set(sender.app.amqp.queues.consume_from):
        return
    logging.getLogger(__name__).info(precision.why(settings.INFERENCE_PRECISION, gpu=precision.gpu_capability()))
