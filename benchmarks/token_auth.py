"""Benchmark: the per-request cost of refusing a revoked family's access tokens.

identity.authentication.FamilyJWTAuthentication loads the user with an EXISTS on the token's
family in the same query (one round trip, as simplejwt's JWTAuthentication). This times both
authenticating the same bearer token, with FAMILIES revoked families in the table (default
100,000): wall clock and this process's CPU per call, and PostgreSQL's own planning and execution
time of both queries (EXPLAIN ANALYZE). Prints figures; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/token_auth.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from rest_framework_simplejwt.authentication import JWTAuthentication  # noqa: E402

FAMILIES = int(os.environ.get("FAMILIES", "100000"))
CALLS = int(os.environ.get("CALLS", "3000"))
ROUNDS = 5


def build() -> str:
    from identity.models import Role, TokenFamily, User
    from identity.tokens import token_pair_issue

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench-customer", defaults={"role": Role.CUSTOMER})
    have = TokenFamily.objects.count()
    if have < FAMILIES:
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO identity_tokenfamily (id, user_id, channel, session_hash, created_at, revoked_at,
                                                     revoked_reason)
                   SELECT gen_random_uuid(), %s, 'api', '', now(), now(), 'reuse'
                   FROM generate_series(1, %s)""",
                [user.pk, FAMILIES - have],
            )
            cursor.execute("ANALYZE identity_tokenfamily")
    return token_pair_issue(user=user)["access"]


def per_call_microseconds(authenticator, request) -> tuple[float, float]:
    """(wall, this process's CPU) per call: the CPU figure is the Python cost, which the other
    processes on a busy machine distort much less than the wall clock."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(CALLS):
        authenticator.authenticate(request)
    return ((time.perf_counter() - started) / CALLS * 1e6, (time.process_time() - cpu_started) / CALLS * 1e6)


def server_milliseconds(sql: str, params: list) -> tuple[float, float]:
    """PostgreSQL's own (planning, execution) time for a query, median of 50 EXPLAIN ANALYZE."""
    planning, execution = [], []
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            planning.append(float(plan.split("Planning Time: ")[1].split(" ms")[0]))
            execution.append(float(plan.split("Execution Time: ")[1].split(" ms")[0]))
    return statistics.median(planning), statistics.median(execution)


def main() -> None:
    from identity.authentication import FamilyJWTAuthentication

    access = build()
    request = RequestFactory().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    # Interleaved, so the machine's load weighs on both alike.
    plain_rounds, family_rounds = [], []
    for _ in range(ROUNDS):
        plain_rounds.append(per_call_microseconds(JWTAuthentication(), request))
        family_rounds.append(per_call_microseconds(FamilyJWTAuthentication(), request))
    print(f"{FAMILIES} revoked families in the table, {CALLS} calls x {ROUNDS} rounds (median of rounds)")
    for label, index in (("wall", 0), ("CPU", 1)):
        plain = statistics.median(r[index] for r in plain_rounds)
        family = statistics.median(r[index] for r in family_rounds)
        print(
            f"  authenticate() {label:>4}: simplejwt {plain:7.1f} us   with the family check {family:7.1f} us"
            f"   ({family - plain:+.1f} us)"
        )
    from rest_framework_simplejwt.tokens import AccessToken

    from identity.authentication import _family_live_sql
    from identity.models import User
    from identity.tokens import family_id_of

    token = AccessToken(access)
    user_id, family_id = token["user_id"], family_id_of(token)
    for label, (sql, params) in (
        ("simplejwt", User.objects.filter(pk=user_id).query.sql_with_params()),
        (
            "with the family check",
            (
                f'SELECT * FROM "identity_user" WHERE {_family_live_sql("default")} AND "id" = %s',
                [family_id, int(user_id)],
            ),
        ),
    ):
        planning, execution = server_milliseconds(sql, list(params))
        print(f"  PostgreSQL, {label}: planning {planning:.3f} ms, execution {execution:.3f} ms")


if __name__ == "__main__":
    main()
