# Local Django settings for Archery (mounted at /opt/archery/local_settings.py).
# Values come from the environment (.env through env_file), as upstream's settings.py reads them.
import os

DEBUG = os.environ.get("DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = os.environ.get("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:9123").split(",")

DATABASE_URL = os.environ.get("DATABASE_URL", "mysql://root:123456@mysql:3306/archery")
CACHE_URL = os.environ.get("CACHE_URL", "redis://redis:6379/0?PASSWORD=123456")

GOINCEPTION_HOST = os.environ.get("GOINCEPTION_HOST", "goinception")
GOINCEPTION_PORT = int(os.environ.get("GOINCEPTION_PORT", "4000"))

TIME_ZONE = "Asia/Shanghai"
LANGUAGE_CODE = "zh-hans"
