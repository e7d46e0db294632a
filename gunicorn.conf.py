"""gunicorn settings for `make serve`, each from the environment (see README, 部署)."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# PDFs are rendered by the RQ workers when REDIS_URL is set, so web workers mostly wait on the
# database: two per core is gunicorn's own advice, but the default stays small for a 2-core host.
workers = int(os.environ.get("WEB_WORKERS", "4"))
threads = int(os.environ.get("WEB_THREADS", "1"))
# A request still running after this many seconds is killed and its worker replaced.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak never takes the host down; jitter keeps them from
# restarting together.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The app is loaded once, in the master, and each worker forked from it: a recycled worker answers
# at once. Booting each worker itself took seconds of CPU, every 2,000 requests, at 200 pages/s
# every ten seconds: requests queued behind it for 2 to 4 s (bench/load.py's p95).
preload_app = True
# The app writes one JSON line per request itself; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def child_exit(server, worker):
    # /metrics adds up the files of every worker (PROMETHEUS_MULTIPROC_DIR); a dead one's gauges go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    # A forked worker must not share the master's database connections (SQLAlchemy's advice for
    # a pool created before fork: dispose it without closing the parent's sockets).
    app = server.app.wsgi()
    if "sqlalchemy" in app.extensions:  # the portal, not bench/load.py's bare page
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose(close=False)
