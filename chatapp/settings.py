"""All settings, driven by environment variables (see README, "Configuration").

There is no production.py: environments differ only in their variables. Defaults
are the safe production ones; `make run` and the tests relax them explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from chatapp.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", required=True)
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- HTTPS and browser hardening -------------------------------------------
# DJANGO_HTTPS=0 only for plain-HTTP local runs (`make run`); production keeps it on.
HTTPS = env_bool("DJANGO_HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy, sent by chatapp.middleware.ContentSecurityPolicyMiddleware.
# No inline script, no third-party origin: every asset is served from here.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # https: only for images in answers, which load when the reader clicks to reveal them.
    "img-src": ["'self'", "data:", "https:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'", *env_list("CSP_FORM_ACTION_EXTRA")],
    "frame-ancestors": ["'none'"],
}

# --- Applications ------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "orgs",
    "providers",
    "providers.budgets",
    "providers.vault",
    "providers.pii",
    "providers.finance",
    "providers.ops",
    "rag",
    "chatapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chatapp.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "chatapp.urls"
ASGI_APPLICATION = "chatapp.asgi.application"
WSGI_APPLICATION = None

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
                "orgs.context_processors.navigation",
                "providers.budgets.context_processors.notices",
            ],
        },
    },
]

# --- Data ------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL is required (postgresql://user:pass@host:port/db)")
DATABASES = {"default": database_from_url(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_db_options = cast(dict[str, object], DATABASES["default"]["OPTIONS"])
# Every session scans HNSW indexes iteratively (pgvector ≥ 0.8): a vector search
# filtered by the document ACL keeps going until it has its LIMIT rows. Set when the
# connection starts, so a search costs no extra round trip.
_db_options["options"] = " ".join(
    filter(None, [str(_db_options.get("options", "")), "-c hnsw.iterative_scan=relaxed_order"])
)
# A pool of connections per process (psycopg_pool) for the web server, whose sync
# calls open and close a connection for every consumer event; chatapp/asgi.py turns it
# on. Off for Celery's forked workers and commands (a pool must not cross a fork).
DATABASE_POOL = env_int("DATABASE_POOL", 0, minimum=0)
# Threads for the database work of chat sockets and streamed answers (chatapp.dbthread):
# few on purpose, as ORM work holds the GIL the event loop needs to relay every stream.
CHAT_DB_THREADS = env_int("CHAT_DB_THREADS", 1, minimum=1)
if DATABASE_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    _db_options["pool"] = {
        "min_size": min(2, DATABASE_POOL),
        "max_size": DATABASE_POOL,
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required (redis://host:port/0)")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# No Channels layer: realtime events go through chatapp.fanout (Redis pub/sub with one
# subscriber per process), which costs far less per streamed token.

# --- Celery (CELERY_ namespace, read by chatapp/celery.py) -------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "Asia/Seoul"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "chatapp.worker_heartbeat", "schedule": 30.0},
    "mark-interrupted-answers": {"task": "chatapp.mark_interrupted_answers", "schedule": 60.0},
}

# --- Auth ------------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {"login_failed": "10/m/ip,5/5m/key"}
# Accounts come from the org chart or the company IdP, never from open sign-up.
ACCOUNT_ADAPTER = "orgs.adapters.AccountAdapter"
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", True)
# With local sign-in off, only the company IdP can sign anyone in.
SOCIALACCOUNT_ONLY = not LOCAL_LOGIN_ENABLED

# --- Company SSO (OpenID Connect: Keycloak, Entra ID, Google Workspace, Okta) ----
# Providers can also be added by platform admins in the admin UI (Social applications).
SOCIALACCOUNT_ADAPTER = "orgs.sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SSO_ENABLED = env_bool("SSO_ENABLED", False)
SSO_ORGANIZATION = env_str("SSO_ORGANIZATION")
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True, "VERIFIED_EMAIL": True, "APPS": []}
}
if SSO_ENABLED:
    _sso_missing = [
        name for name in ("SSO_ISSUER", "SSO_CLIENT_ID", "SSO_ORGANIZATION") if not env_str(name)
    ]
    if not env_secret("SSO_CLIENT_SECRET"):
        _sso_missing.append("SSO_CLIENT_SECRET")
    if _sso_missing:
        raise ImproperlyConfigured(f"SSO_ENABLED is on but {', '.join(_sso_missing)} missing")
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        {
            "provider_id": env_str("SSO_PROVIDER_ID", "company"),
            "name": env_str("SSO_NAME", "Company SSO"),
            "client_id": env_str("SSO_CLIENT_ID"),
            "secret": env_secret("SSO_CLIENT_SECRET"),
            "settings": {
                "server_url": env_url("SSO_ISSUER", schemes=("https", "http")),
                "scope": env_list("SSO_SCOPES", ["openid", "profile", "email"]),
                "oauth_pkce_enabled": True,
                "verified_email": True,
                "email_authentication": True,
            },
        }
    ]

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "ko")
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))

# --- Mail --------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ai-platform@localhost")

# --- The gateway -------------------------------------------------------------
# 32-byte key (base64) that encrypts provider API keys stored in the database.
PROVIDER_SECRETS_KEY = env_secret("PROVIDER_SECRETS_KEY")
PROVIDER_CONNECT_TIMEOUT = env_int("PROVIDER_CONNECT_TIMEOUT", 5, minimum=1)
PROVIDER_REQUEST_TIMEOUT = env_int("PROVIDER_REQUEST_TIMEOUT", 600, minimum=1)

# --- Cost control, the BYOK vault, finance -------------------------------------
# Budget periods (day, week, month) start at midnight in this time zone.
BUDGET_TIME_ZONE = env_str("BUDGET_TIME_ZONE", "Asia/Seoul")
# Wraps the data key of every BYOK secret; base64 of 32 bytes, never in the database.
VAULT_MASTER_KEY = env_secret("VAULT_MASTER_KEY")
# Earlier master keys (comma-separated base64), readable until rotate_master_key runs.
VAULT_PREVIOUS_MASTER_KEYS = env_secret("VAULT_PREVIOUS_MASTER_KEYS")
# Dotted path of the master key backend (a KMS plugs in here).
VAULT_MASTER_KEY_BACKEND = env_str(
    "VAULT_MASTER_KEY_BACKEND", "providers.vault.master.EnvironmentMasterKey"
)
# Bearer token that /metrics requires; /metrics answers 404 while it is empty.
METRICS_TOKEN = env_secret("METRICS_TOKEN")
# Korean VAT, shown separately on statements.
VAT_RATE = env_decimal("VAT_RATE", "0.10", minimum="0", maximum="1")
# What the personal data guard does for external models when no policy says otherwise.
PII_DEFAULT_ACTION = env_choice("PII_DEFAULT_ACTION", "mask", ("allow", "mask", "block"))
# --- Company knowledge ------------------------------------------------------
RAG_EMBEDDING_MODEL = env_str("RAG_EMBEDDING_MODEL", "embedding")
RAG_MAX_UPLOAD_BYTES = env_int("RAG_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024)
RAG_MAX_PAGES = env_int("RAG_MAX_PAGES", 1000, minimum=1)
# Reciprocal rank fusion of the keyword and vector rankings: weight / (RAG_RRF_K + rank).
# Keyword twice the vector: on the KorQuAD set (rag_eval) this is the first weighting
# whose hybrid ranking beats both single methods on R@1, R@5, R@10 and MRR@10.
RAG_KEYWORD_WEIGHT = float(env_decimal("RAG_KEYWORD_WEIGHT", "2", minimum="0", maximum="100"))
RAG_VECTOR_WEIGHT = float(env_decimal("RAG_VECTOR_WEIGHT", "1", minimum="0", maximum="100"))
RAG_RRF_K = env_int("RAG_RRF_K", 60, minimum=1)
OCR_ENABLED = env_bool("OCR_ENABLED", True)

# Usage ledger rows are written in batches this many milliseconds after they are made.
LEDGER_FLUSH_MS = env_int("LEDGER_FLUSH_MS", 200, minimum=1)
# Whether a blocking gateway call (``providers.gateway.chat/embed/stream``) writes its
# rows before it returns: yes for Celery tasks and commands, whose process may end
# without running exit handlers; the web server (chatapp/asgi.py) leaves them to the
# writer thread and to its exit, off the request's path.
LEDGER_SYNC_FLUSH = env_bool("LEDGER_SYNC_FLUSH", True)
HEALTHCHECK_TIMEOUT = 2

# --- Logging: plain lines on stderr; secrets never formatted into messages ----
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be a logging level name, got {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "chatapp.logging.RedactSecretsFilter"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
