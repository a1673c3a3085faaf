# gunicorn settings for the greenlight app, installed as /etc/greenlight/gunicorn.conf.py.
# systemd runs: python -m gunicorn --config /etc/greenlight/gunicorn.conf.py <wsgi from the app's manifest>
# A local run may reuse this file and override only `bind` on the command line (--bind).
import multiprocessing
import os

# nginx proxies to this socket; systemd creates /run/greenlight for the app user (RuntimeDirectory).
bind = "unix:/run/greenlight/gunicorn.sock"

# WEB_CONCURRENCY is gunicorn's conventional override; the default suits a small instance.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))

# A worker silent this long is killed and replaced.
timeout = 30
# On SIGTERM (stop, scale-in) and SIGHUP (reload), workers finish in-flight requests for this long.
# Keep it below systemd's TimeoutStopSec and the target group's deregistration delay.
graceful_timeout = 25
keepalive = 5

# Logs to stdout/stderr; systemd sends them to the journal (twelve-factor).
accesslog = "-"
errorlog = "-"
loglevel = "info"
capture_output = True
