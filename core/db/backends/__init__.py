"""Django's PostgreSQL and SQLite backends without DEBUG's query log, for `make run`
(project/settings/dev.py).

With DEBUG on, Django wraps every cursor in CursorDebugWrapper, which renders each statement with
its parameters (psycopg's mogrify) and keeps it in `connection.queries` for a debugging tool to
read. Flux has no such tool; under `make run` the rendering cost about 9% of a web worker's CPU
per transfer and 12% of the audit consumer's (py-spy --gil, 16 clients, issue 11). These backends
log queries only when something asks for them: `CaptureQueriesContext` and
`assertNumQueries` (force_debug_cursor), or FLUX_LOG_QUERIES=1, which keeps the dev settings on
Django's own backends.
"""
