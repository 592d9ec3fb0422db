"""What the benchmark scripts share: their own PostgreSQL database next to the tests' one."""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def own_database(test_url: str, name: str) -> str:
    """Create database `name` on the server of `test_url` if missing; return its URL.

    The tests wipe the database TEST_DATABASE_URL names; a benchmark running meanwhile must not
    share it, nor wipe it for them.
    """
    admin = create_engine(test_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(test_url).set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    """Empty a benchmark's own PostgreSQL database (never the tests' one)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def timings(call, n: int, warmup: int) -> list[float]:
    """Milliseconds of `n` calls after `warmup` untimed ones."""
    import time

    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times
