"""`python -m web`: serve the product on http://127.0.0.1:5000 with the timer worker embedded."""
import os
import threading

from engine.app.worker import run_worker
from engine.core import logs
from engine.core.config import Config

from . import create_app

config = Config.from_env()
logs.configure(config.log_format, config.log_level)
app = create_app()
stop = threading.Event()
# The embedded default: one process serves pages and fires timers (POLL seconds, default 2).
worker = threading.Thread(target=run_worker, name="timer-worker", daemon=True,
                          args=(app.extensions["engine"], stop, float(os.environ.get("TIMER_POLL_SECONDS", "2"))))
worker.start()
try:
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
            threaded=True, use_reloader=False)
finally:
    stop.set()
