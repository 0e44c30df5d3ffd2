"""Django settings for xinqiao: the one settings module, every knob read from the environment.

``XINQIAO_ENV`` selects the environment: ``demo`` (the default: one command runs everything on
SQLite with the demo keys), ``test`` (the suite), ``production``. Production refuses to start with
any demo secret, without field-encryption keys, or without allowed hosts. See ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from xinqiao.envvars import env_bool, env_choice, env_int, env_list, env_str, parse_key_ring

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(env_str("XINQIAO_VAR_DIR", str(PROJECT_DIR / "var")))

XINQIAO_ENV = env_choice("XINQIAO_ENV", ("demo", "test", "production"), "demo")
PRODUCTION = XINQIAO_ENV == "production"

# --- Secrets -------------------------------------------------------------------------------------
# The demo values are public (they are in this file); production refuses them.
DEMO_SECRET_KEY = "xinqiao-demo-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
DEMO_FIELD_KEYS = "demo1:SySZuSkf5_Me0T2xyD3pppcVX1CfCDJ_L9zSFqK2BVY="
DEMO_BLIND_INDEX_KEY = "ZC6N4A0QrMxPiWp8wth_t-m6z5AAReOwVbTy1C5mMnc="

SECRET_KEY = env_str("XINQIAO_SECRET_KEY", "" if PRODUCTION else DEMO_SECRET_KEY)
_field_keys_raw = env_str("XINQIAO_FIELD_KEYS", "" if PRODUCTION else DEMO_FIELD_KEYS)
_blind_key_raw = env_str("XINQIAO_BLIND_INDEX_KEY", "" if PRODUCTION else DEMO_BLIND_INDEX_KEY)
XINQIAO_FIELD_KEYS = parse_key_ring("XINQIAO_FIELD_KEYS", _field_keys_raw)
_blind_ring = parse_key_ring("XINQIAO_BLIND_INDEX_KEY", f"b:{_blind_key_raw}") if _blind_key_raw else {}
XINQIAO_BLIND_INDEX_KEY = _blind_ring.get("b", b"")

if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == DEMO_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("XINQIAO_SECRET_KEY must be set to a private value of 50+ characters in production")
    if not XINQIAO_FIELD_KEYS:
        raise ImproperlyConfigured("XINQIAO_FIELD_KEYS must be set in production (personal data is encrypted)")
    if set(XINQIAO_FIELD_KEYS.values()) & set(parse_key_ring("demo", DEMO_FIELD_KEYS).values()):
        raise ImproperlyConfigured("XINQIAO_FIELD_KEYS contains the public demo key; generate your own")
    if not XINQIAO_BLIND_INDEX_KEY or XINQIAO_BLIND_INDEX_KEY == parse_key_ring("demo", f"b:{DEMO_BLIND_INDEX_KEY}")["b"]:
        raise ImproperlyConfigured("XINQIAO_BLIND_INDEX_KEY must be set to a private 32-byte key in production")
if not XINQIAO_FIELD_KEYS or not XINQIAO_BLIND_INDEX_KEY:
    raise ImproperlyConfigured("XINQIAO_FIELD_KEYS and XINQIAO_BLIND_INDEX_KEY must not be empty")

DEBUG = env_bool("XINQIAO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("XINQIAO_DEBUG must be off in production")
ALLOWED_HOSTS = env_list("XINQIAO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("XINQIAO_ALLOWED_HOSTS must list the public host names in production")
CSRF_TRUSTED_ORIGINS = env_list("XINQIAO_CSRF_TRUSTED_ORIGINS")

# --- Applications --------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "ninja",
    "xinqiao.core",
    "xinqiao.screening",
    "xinqiao.patients",
    "xinqiao.followups",
    "xinqiao.referrals",
    "xinqiao.caregroups",
    "xinqiao.registry",
    "xinqiao.worklists",
    "xinqiao.paperwork",
    "xinqiao.indicators",
    "xinqiao.fhir",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xinqiao.core.middleware.RequestContextMiddleware",
    "xinqiao.core.middleware.IdleTimeoutMiddleware",
    "xinqiao.core.middleware.TwoFactorRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xinqiao.urls"
WSGI_APPLICATION = "xinqiao.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "xinqiao.core.context_processors.platform",
                "xinqiao.core.views.notifications.unread_notifications",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------
# SQLite (WAL) by default so one command runs everything; PostgreSQL via DATABASE_URL.
_default_sqlite = f"sqlite:///{VAR_DIR / 'xinqiao.sqlite3'}"
if "DATABASE_URL" not in __import__("os").environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(env_str("DATABASE_URL", _default_sqlite), conn_max_age=env_int("XINQIAO_DB_CONN_MAX_AGE", 0, minimum=0)),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    )
if env_str("XINQIAO_TEST_DB_NAME"):
    # Lets concurrent test runs on one PostgreSQL server use separate test databases.
    DATABASES["default"]["TEST"] = {"NAME": env_str("XINQIAO_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery -------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "xinqiao"}}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # eager in the embedded default: nothing extra must run
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {"task": "core.verify_audit_chain", "schedule": 24 * 3600},
    "purge-idempotency-keys": {"task": "core.purge_idempotency_keys", "schedule": 24 * 3600},
    "escalate-overdue-alerts": {"task": "screening.escalate_overdue_alerts", "schedule": 5 * 60},
    "flag-overdue": {"task": "worklists.flag_overdue", "schedule": crontab(hour=6, minute=30)},
    "referral-reminders": {"task": "referrals.send_reminders", "schedule": 60 * 60},
    "indicators-nightly": {"task": "indicators.refresh_nightly", "schedule": crontab(hour=2, minute=15)},
}

# --- Accounts and authentication -----------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if XINQIAO_ENV == "test":
    # Argon2 at full cost makes a suite of hundreds of logins slow; the hasher choice is still tested.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "xinqiao.core.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

AXES_FAILURE_LIMIT = env_int("XINQIAO_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("XINQIAO_LOCKOUT_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("XINQIAO_PROXY_COUNT", 0, minimum=0)
# Trust X-Forwarded-For only behind a known number of proxies; otherwise a client could forge it.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Two-factor: forced for every role that sees identifiable personal data; offered only in the demo.
XINQIAO_2FA_FORCED = env_bool("XINQIAO_2FA_FORCED", default=XINQIAO_ENV != "demo")
if PRODUCTION and not XINQIAO_2FA_FORCED:
    raise ImproperlyConfigured("XINQIAO_2FA_FORCED cannot be turned off in production")
OTP_TOTP_ISSUER = "xinqiao 心桥"

# Idle sessions end after this many minutes without a request.
XINQIAO_IDLE_MINUTES = env_int("XINQIAO_IDLE_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = XINQIAO_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE = PRODUCTION or env_bool("XINQIAO_SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("XINQIAO_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Public self-screening --------------------------------------------------------------------
# Submissions per client address per window ("count/seconds"); addresses are kept only as a salted hash.
XINQIAO_PUBLIC_RATE = env_str("XINQIAO_PUBLIC_RATE", "30/600")
# Province preselected in the public region picker (2-digit code); empty = the one with most services.
XINQIAO_PUBLIC_DEFAULT_PROVINCE = env_str("XINQIAO_PUBLIC_DEFAULT_PROVINCE", "")

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("XINQIAO_STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Platform knobs ------------------------------------------------------------------------------
XINQIAO_SITE_NAME = _("xinqiao mental-health service platform")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("XINQIAO_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
