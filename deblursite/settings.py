"""Every knob comes from the environment (django-environ); the defaults are the
embedded development set-up: SQLite, files under var/, a filesystem broker."""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from inference.precision import SETTINGS as PRECISION_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    # A random key per checkout, kept in var/, so no fixed secret ever ships.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "corsheaders",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "gallery",
    "inference",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "deblursite.middleware.RequestSizeLimitMiddleware",
    # 503 with a sentence, not a 500, for a view that found the database or the file store down.
    "deblursite.unavailable.UnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "deblursite.urls"
WSGI_APPLICATION = "deblursite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# A persistent connection (CONN_MAX_AGE below) that died while idle (a database restart) is
# replaced when a request or task starts, not found broken by its first query.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Persistent connections by default: each web thread keeps its connection for a minute rather
# than opening one (a new PostgreSQL backend) per request. `conn_max_age` in the URL overrides it.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password reset mails, per address asked for (whether or not an account has it) and
# per client address; sign-ups on the site per client address, at the API's rate.
PASSWORD_RESET_RATE_EMAIL = env.str("PASSWORD_RESET_RATE_EMAIL", default="3/hour")
PASSWORD_RESET_RATE_CLIENT = env.str("PASSWORD_RESET_RATE_CLIENT", default="10/hour")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:history"
LOGOUT_REDIRECT_URL = "home"

# Login rate limit: a few failures per minute, counted per account and address together, so
# that one person's wrong passwords lock neither another account on the same address (a
# shared office or phone network) nor the same account from elsewhere.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_COOLOFF_SECONDS", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Slower, over any accounts: this many failures from one address within the period lock
# that address (accounts.lockout.LockoutHandler counts them in axes's failure log).
LOGIN_ADDRESS_FAILURE_RATE = env.str("LOGIN_ADDRESS_FAILURE_RATE", default="50/hour")
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# A right password clears the failures of that pair only: a guesser's logins to an account
# of their own never wipe what their guesses at another account added up to.
AXES_RESET_ON_SUCCESS = True
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "deblursite.client_ip.client_ip"
AXES_VERBOSE = False
# JSON for the API, the page for the site, both with Retry-After.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Storage: one bucket (or folder) per kind of data. Set AWS_STORAGE_BUCKET_NAME to use S3.
MEDIA_ROOT = VAR_DIR / "media"
# Lifetime of the links the API hands out: S3 presigned URLs, or signed links on the filesystem.
PRESIGNED_URL_SECONDS = env.int("PRESIGNED_URL_SECONDS", default=300)

# Content Credentials (C2PA) on results (gallery.credentials): the signer's key and its
# certificate chain, PEM. `make run` makes a development pair here; production supplies its own.
C2PA_KEY_FILE = env.str("C2PA_KEY_FILE", default=str(VAR_DIR / "credentials" / "signer.key"))
C2PA_CERT_FILE = env.str("C2PA_CERT_FILE", default=str(VAR_DIR / "credentials" / "signer.pem"))
# The signature algorithm of the key: es256 for a P-256 key, ps256 for RSA, ed25519...
C2PA_ALGORITHM = env.str("C2PA_ALGORITHM", default="es256")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _s3 = {
        "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
        "region_name": env.str("AWS_S3_REGION_NAME", default=None),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
        "default_acl": None,  # objects stay private; reads go through presigned URLs
        "querystring_auth": True,
        "querystring_expire": PRESIGNED_URL_SECONDS,
        "signature_version": "s3v4",
        "file_overwrite": True,  # names are generated; a re-run job overwrites its own result
    }

    def _bucket(name: str) -> dict:
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_s3, "bucket_name": name}}

    _media = _bucket(AWS_STORAGE_BUCKET_NAME)
    _datasets = _bucket(env.str("DATASETS_BUCKET_NAME", default=AWS_STORAGE_BUCKET_NAME))
    _models = _bucket(env.str("MODELS_BUCKET_NAME", default=AWS_STORAGE_BUCKET_NAME))
else:

    def _folder(path: Path) -> dict:
        # base_url=None: media is never served from a public URL, only by owner-checked views.
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(path), "base_url": None, "allow_overwrite": True},
        }

    _media = _folder(MEDIA_ROOT)
    _datasets = _folder(VAR_DIR / "datasets")
    _models = _folder(VAR_DIR / "models")

STORAGES = {
    "default": _media,
    "datasets": _datasets,
    "models": _models,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# ZIPs of several photos are built by the downloads worker and kept this long for download.
ARCHIVE_KEEP_HOURS = env.int("ARCHIVE_KEEP_HOURS", default=24)
# ZIPs a user may have at once: each holds copies of up to all their photos.
ARCHIVE_MAX_PER_USER = env.int("ARCHIVE_MAX_PER_USER", default=5)

# Uploads
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
UPLOAD_MAX_FILES = env.int("UPLOAD_MAX_FILES", default=20)
# Smaller images have too little in them to deblur; web, API and try-it uploads alike.
UPLOAD_MIN_SIDE = env.int("UPLOAD_MIN_SIDE", default=32)
# CPU seconds one file may take to decode (uploads, references, ingestion), in a child
# process: a 40 MP photo takes 0.4-1.4 s here, a file built to be dear to decode is stopped.
DECODE_CPU_SECONDS = env.int("DECODE_CPU_SECONDS", default=6)
USER_QUOTA_BYTES = env.int("USER_QUOTA_BYTES", default=2 * 1024**3)
# Per user, by every route (form, upload page, try-it, API), counted in photos and in megapixels.
UPLOAD_RATE_PHOTOS = env.str("UPLOAD_RATE_PHOTOS", default="120/hour")
UPLOAD_RATE_MEGAPIXELS = env.str("UPLOAD_RATE_MEGAPIXELS", default="1500/hour")
# The same for all the accounts that upload from one address (a household, an office).
UPLOAD_ADDRESS_RATE_PHOTOS = env.str("UPLOAD_ADDRESS_RATE_PHOTOS", default="240/hour")
UPLOAD_ADDRESS_RATE_MEGAPIXELS = env.str("UPLOAD_ADDRESS_RATE_MEGAPIXELS", default="3000/hour")
# The megapixels of a user's queued and running jobs, at most: one user cannot fill the workers' queue.
UPLOAD_QUEUE_MEGAPIXELS = env.int("UPLOAD_QUEUE_MEGAPIXELS", default=200)
# The same, for all the accounts that upload from one address: many new accounts cannot fill it.
UPLOAD_ADDRESS_QUEUE_MEGAPIXELS = env.int("UPLOAD_ADDRESS_QUEUE_MEGAPIXELS", default=400)
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES * 2  # photos and their references
# Every photo with a reference at the size limit, plus room for the form fields.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=DATA_UPLOAD_MAX_NUMBER_FILES * UPLOAD_MAX_BYTES + 2**20)
# An API upload is one photo and its reference: what two files at the size limit need, plus
# room for the multipart framing and the form fields.
API_REQUEST_MAX_BYTES = env.int("API_REQUEST_MAX_BYTES", default=2 * UPLOAD_MAX_BYTES + 2**20)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Celery: state lives in the database rows, so no result backend.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Above the longest job, or Redis would hand a running job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("BROKER_VISIBILITY_TIMEOUT", default=6 * 3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "deblur"
CELERY_TASK_ROUTES = {
    # Beat's checks have a queue of their own, so that they never wait behind a long job.
    "gallery.requeue_stale": {"queue": "maintenance"},
    "gallery.sweep_storage": {"queue": "maintenance"},
    "etl.resume_due": {"queue": "maintenance"},
    "training.watch_runs": {"queue": "maintenance"},
    # Blends and ZIPs: seconds to minutes of work that no web request waits on, and that no
    # deblurring job should wait behind.
    "gallery.render_blends": {"queue": "downloads"},
    "gallery.build_archive": {"queue": "downloads"},
    "inference.*": {"queue": "deblur"},
    "gallery.*": {"queue": "deblur"},
    "training.*": {"queue": "train"},
    "etl.*": {"queue": "etl"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-jobs": {"task": "gallery.requeue_stale", "schedule": 60.0},
    "sweep-storage": {"task": "gallery.sweep_storage", "schedule": 600.0},
    "resume-ingestions": {"task": "etl.resume_due", "schedule": 60.0},
    "watch-training-runs": {"task": "training.watch_runs", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A job whose worker stopped sending progress for this long is taken for dead and run again.
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=600)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
# Jobs expected to take longer than this go to the deblur-long queue (gallery.queueing), so
# that short ones never wait behind them; each queue has workers of its own. The workers per
# queue (Procfile: one each) share the queue's waits in the times people see.
LONG_JOB_SECONDS = env.float("LONG_JOB_SECONDS", default=60.0)
QUEUE_WORKERS = {
    "deblur": env.int("DEBLUR_WORKERS", default=1),
    "deblur-long": env.int("DEBLUR_LONG_WORKERS", default=1),
}
# The storage sweep (gallery.cleanup) removes photo files that no row names once they are
# this old: younger ones may belong to an upload whose row is not written yet.
STORAGE_SWEEP_GRACE_SECONDS = env.int("STORAGE_SWEEP_GRACE_SECONDS", default=3600)

# Training data (admin ingestion)
DATASET_MAX_BYTES = env.int("DATASET_MAX_BYTES", default=50 * 1024 * 1024)
DATASET_MAX_PIXELS = env.int("DATASET_MAX_PIXELS", default=80_000_000)
DATASET_MIN_SIDE = env.int("DATASET_MIN_SIDE", default=256)
DATASET_MAX_SIDE = env.int("DATASET_MAX_SIDE", default=2560)
# Hamming distance between 64-bit perceptual hashes at or under which two photos are the same picture.
DATASET_NEAR_DUPLICATE_DISTANCE = env.int("DATASET_NEAR_DUPLICATE_DISTANCE", default=6)
# Server folders that staff may import from on the admin pages (the command line may read any).
INGEST_FOLDER_ROOTS = env.list("INGEST_FOLDER_ROOTS", default=[str(VAR_DIR / "incoming")])
UNSPLASH_ACCESS_KEY = env.str("UNSPLASH_ACCESS_KEY", default="")
UNSPLASH_API_URL = env.str("UNSPLASH_API_URL", default="https://api.unsplash.com")
UNSPLASH_APP_NAME = env.str("UNSPLASH_APP_NAME", default="deblur")
# Requests per hour; 50 is the demo tier. Image downloads from the CDN do not count.
UNSPLASH_HOURLY_BUDGET = env.int("UNSPLASH_HOURLY_BUDGET", default=50)
UNSPLASH_IMAGE_VARIANT = env.str("UNSPLASH_IMAGE_VARIANT", default="full")
UNSPLASH_RETRIES = env.int("UNSPLASH_RETRIES", default=4)
UNSPLASH_BACKOFF_SECONDS = env.float("UNSPLASH_BACKOFF_SECONDS", default=1.0)
UNSPLASH_TIMEOUT_SECONDS = env.float("UNSPLASH_TIMEOUT_SECONDS", default=30.0)

# Training runs (staff pages): a run whose worker sent no heartbeat for this long is taken
# for dead; beat resumes it from its checkpoint this many times, then fails it.
TRAINING_STALE_SECONDS = env.int("TRAINING_STALE_SECONDS", default=180)
TRAINING_AUTO_RESUMES = env.int("TRAINING_AUTO_RESUMES", default=1)
# XLA for new runs: "auto" lets Keras decide; "false" skips its compile time (minutes on a CPU).
TRAINING_JIT_COMPILE = {"true": True, "false": False}.get(env.str("TRAINING_JIT_COMPILE", default="auto"), "auto")

# Inference
# Unset: what suits each architecture (inference.engine.TILING).
# auto: bfloat16 where the CPU does it in hardware and it pays for the network
# (inference.precision), else float32; or float32, or bfloat16 everywhere.
INFERENCE_PRECISION = env.str("INFERENCE_PRECISION", default="auto")
if INFERENCE_PRECISION not in PRECISION_SETTINGS:
    raise ImproperlyConfigured(
        f"INFERENCE_PRECISION must be one of {', '.join(PRECISION_SETTINGS)}, not {INFERENCE_PRECISION!r}."
    )
INFERENCE_TILE = env.int("INFERENCE_TILE", default=None)
INFERENCE_OVERLAP = env.int("INFERENCE_OVERLAP", default=None)
MODEL_CACHE_DIR = Path(env.str("MODEL_CACHE_DIR", default=str(VAR_DIR / "model-cache")))
# The benchmark folders `manage.py evaluate` scores when it is given none.
BENCHMARKS_DIR = Path(env.str("BENCHMARKS_DIR", default=str(BASE_DIR.parent / "shared" / "benchmarks")))
# Registry packages that carry published weights (inference/pretrained.py), kept outside the
# checkout so that a fresh clone on the same machine reuses them.
PRETRAINED_CACHE_DIR = Path(env.str("PRETRAINED_CACHE_DIR", default=str(Path.home() / ".cache" / "deblur" / "pretrained")))

# REST API for mobile clients (/api/v1/): per-device expiring tokens (knox), or the
# site's session for a signed-in browser.
# Sign-ins and sign-ups of the API per client address; the site's sign-up page has the same rate.
API_AUTH_RATE = env.str("API_AUTH_RATE", default="20/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        # DRF's, with the reason of a refused body in words (a file name too long).
        "deblursite.bad_requests.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "auth": API_AUTH_RATE,
    },
    # The client address of rate limits, read as the lockout reads it (deblursite.client_ip);
    # unset, DRF would trust any X-Forwarded-For.
    "NUM_PROXIES": PROXY_COUNT,
    # `format` names the file format of a result download, not a renderer.
    "URL_FORMAT_OVERRIDE": None,
}
KNOX_TOKEN_MODEL = "accounts.DeviceToken"
# knox's own migrations create its AuthToken table even though the model is swapped
# for DeviceToken. That unused table's foreign key to auth_user makes PostgreSQL
# refuse the TRUNCATE of a flush (transactional tests). Without migrations, the
# swapped model gets no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DAYS", default=30)),
    # A device in use stays signed in; an unused one expires TOKEN_TTL after its last request.
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": None,
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKENS_PER_USER", default=20),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Deblur API",
    "DESCRIPTION": "Upload blurred photos, follow their deblurring jobs and download the sharp results.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed package: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The upload choices (auto, best, fast, shake) are one enum wherever they appear.
    "ENUM_NAME_OVERRIDES": {"ChoiceEnum": "inference.models.Choice"},
}
# CORS is off unless origins are configured (browser clients on other sites).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Readable by browser apps: how long to wait after a 429, and a download's file name.
CORS_EXPOSE_HEADERS = ["Retry-After", "Content-Disposition"]

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Deblur <noreply@localhost>")

# Shared by every web process (the API's rate limits live here): files by default, Redis in production.
# "local" is each process's own memory, for what is dearer to make than to keep and is keyed by
# what it is made from (a queue's start order, the gallery's cards, the API's presigned links):
# no network round trip, and a new release, which may make them differently, starts empty.
CACHES = {
    "default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 20000}},
}

# Production hardening, on unless the site is served over plain HTTP on this machine
# (`make run` sets HTTPS=false; `manage.py check --deploy` is clean with the defaults).
HTTPS = env.bool("HTTPS", default=not DEBUG)
# X-Forwarded-Proto says whether the client used HTTPS. Any client can send it: trust it only
# when gunicorn is reachable through the TLS proxy alone, which sets it (README).
TRUST_PROXY_SSL_HEADER = env.bool("TRUST_PROXY_SSL_HEADER", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_PROXY_SSL_HEADER else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
