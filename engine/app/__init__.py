"""Putting the engine together for a process: bootstrap (context, migrations, seed, deploy), the
worker loop, the command line (`python -m engine`), the demo province, the schema of all tables."""
