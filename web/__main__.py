"""`python -m web`: serve the product on http://127.0.0.1:5000 (embedded default set-up)."""
import os

from . import create_app

app = create_app()
app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
        threaded=True, use_reloader=False)
