"""The task page says who holds a claimed task, by name, with the way to claim, give back or take over."""
from __future__ import annotations

from flask import current_app, g

from engine.read import claims


def init_app(app) -> None:
    """Give templates `claim_on(instance_id, task_id)`: the claim on a task waiting for the signed-in user."""

    def claim_on(instance_id: int, task_id: str):
        if getattr(g, "actor", None) is None:
            return None
        return claims.claim_on(current_app.extensions["engine"], g.actor, instance_id, task_id)

    app.jinja_env.globals["claim_on"] = claim_on
