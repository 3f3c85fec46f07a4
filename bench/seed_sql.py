"""The set-based SQL that generates the 10M dataset inside PostgreSQL (generate_series; no row passes through
Python as an object). Every attribute is a pure function of a row number, so the three tables agree by
construction.

Shape (N learners, C completions, C = R0 + R1 + R2):
- learner u (1..N): former province, audience and favourite course from independent multiplicative hashes;
  the current province is the former one's successor;
- completion i (1..C) happens at `start + (i - 0.5) * span / C`, so `seq = i` follows time, as in production;
  a fixed permutation k = (i·A + B) mod C spreads learners over the year: k < R0 is learner k+1's first,
  R0 ≤ k < R0+R1 a second course of learner k−R0+1, the rest a third (courses c, c+17, c+34 mod 50 differ);
- before 1 July 2025 completions carry the former province code (the units merged that day), after it the
  current one; 1 completion in 20 comes from a partner system (client_id + external_ref);
- a learner's first completion of the year is the smallest i among their ks (inverse permutation), which is
  what `hocso counters verify` recomputes (ordered by completed_at, then seq).
"""

import re
from dataclasses import dataclass
from math import gcd

from app.services.completion.feed_items import item_sql

HASH_A, HASH_B, HASH_C = 2654435761, 2246822519, 3266489917  # odd multipliers (Knuth, xxHash primes)
LOCAL_TZ = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Shape:
    learners: int
    completions: int

    @property
    def rounds(self) -> tuple[int, int, int]:
        r0 = min(self.learners, -(-self.completions * 6 // 10))
        r1 = min(r0, -(-self.completions * 3 // 10), self.completions - r0)
        r2 = self.completions - r0 - r1
        if r2 > r1:
            raise ValueError("too few learners for that many completions (at most 3 courses each)")
        return r0, r1, r2

    @property
    def permutation(self) -> tuple[int, int, int]:
        """A, B and A⁻¹ mod C of the permutation k = (i·A + B) mod C."""
        c = self.completions
        a = 6_700_417
        while gcd(a, c) != 1:
            a += 2
        a %= c
        if c > 1 and a in (0, 1):
            a = next(x for x in range(c // 2 + 1, c) if gcd(x, c) == 1)
        return a, c // 3, pow(a, -1, c) if c > 1 else 0


def _learner_traits(u: str) -> str:
    """Columns every query derives from a learner number `u` (a bigint expression)."""
    return f"""
        ({u} * {HASH_A}) % 4294967296 % array_length($former::text[], 1) + 1 AS p,
        ({u} * {HASH_B}) % 4294967296 % 1000 AS aud_bucket,
        floor(50 * power((({u} * {HASH_C}) % 4294967296)::float8 / 4294967296.0, 2))::int AS fav"""


def _full_name(u: str) -> str:
    return (f"(($family::text[])[1 + {u} % 14] || ' ' || ($middle::text[])[1 + {u} / 14 % 9] || ' '"
            f" || ($given::text[])[1 + {u} / 126 % 24])::varchar")


USERS = f"""
SELECT md5('hocso-bench-user-' || u)::uuid AS id,
       ('+849' || lpad(u::text, 8, '0'))::varchar AS phone,
       NULL::varchar AS email,
       NULL::varchar AS national_id_hash,
       {_full_name("u")} AS full_name,
       (($family_plain::text[])[1 + u % 14] || ' ' || ($middle_plain::text[])[1 + u / 14 % 9] || ' '
         || ($given_plain::text[])[1 + u / 126 % 24] || ' +849' || lpad(u::text, 8, '0')
       )::varchar AS search_text,
       (CASE WHEN t.aud_bucket < 40 THEN 'official' ELSE 'citizen' END)::varchar AS audience,
       'learner'::varchar AS role,
       ($successor::text[])[t.p]::varchar AS province_code,
       (CASE WHEN t.aud_bucket < 40 THEN 'UBND ' || ($former_name::text[])[t.p] END)::varchar AS agency,
       CASE WHEN t.aud_bucket < 30 THEN $start::timestamptz - interval '30 days' END AS official_verified_at,
       NULL::uuid AS official_verified_by,
       $password_hash::varchar AS password_hash,
       true AS is_active,
       $start::timestamptz - make_interval(days => (u % 300)::int) AS created_at
FROM generate_series(1::bigint, $learners::bigint) AS u,
     LATERAL (SELECT {_learner_traits("u")}) AS t
"""
USER_COLUMNS = [
    "id",
    "phone",
    "email",
    "national_id_hash",
    "full_name",
    "search_text",
    "audience",
    "role",
    "province_code",
    "agency",
    "official_verified_at",
    "official_verified_by",
    "password_hash",
    "is_active",
    "created_at",
]


def _completed_at(i: str) -> str:
    return (
        f"$start::timestamptz + make_interval(secs => ({i} - 0.5) * $span_s::float8 / $completions::float8)"
    )


def _province_at(when: str) -> str:
    return (
        f"(CASE WHEN {when} < $reform::timestamptz THEN ($former::text[])[t.p] "
        f"ELSE ($successor::text[])[t.p] END)::varchar"
    )


def _audience() -> str:
    # Unverified officials complete as citizens (their effective audience).
    return "(CASE WHEN t.aud_bucket < 30 THEN 'official' ELSE 'citizen' END)::varchar"


# The feed item (services/feed_items.py) is rendered from the completion's other columns as it is generated.
COMPLETIONS = f"""
SELECT r.seq, r.id, r.txid, r.user_id, r.course_id, r.course_version, r.audience, r.province_code,
       r.current_province_code, r.source, r.client_id, r.external_ref, r.completed_at, r.created_at,
       {item_sql(id="r.id", user_id="r.user_id", full_name=_full_name("r.u"), course_id="r.course_id",
                      course_slug="r.course_slug", course_version="r.course_version", audience="r.audience",
                      assurance="'none'",
                      province_code="r.province_code", current_province_code="r.current_province_code",
                      source="r.source", client_id="r.client_id", external_ref="r.external_ref",
                      completed_at="r.completed_at")} AS feed_item
FROM (
SELECT c.i AS seq,
       md5('hocso-bench-completion-' || c.i)::uuid AS id,
       $txid::bigint AS txid,
       md5('hocso-bench-user-' || c.u)::uuid AS user_id,
       ($courses::uuid[])[1 + (t.fav + 17 * c.round) % 50] AS course_id,
       1 AS course_version,
       {_audience()} AS audience,
       {_province_at("c.at")} AS province_code,
       ($successor::text[])[t.p]::varchar AS current_province_code,
       (CASE WHEN c.i % 20 = 0 THEN 'partner' ELSE 'platform' END)::varchar AS source,
       (CASE WHEN c.i % 20 = 0 THEN 'bench-partner' END)::varchar AS client_id,
       (CASE WHEN c.i % 20 = 0 THEN 'BENCH-' || c.i END)::varchar AS external_ref,
       c.at AS completed_at,
       c.at AS created_at,
       ($course_slugs::text[])[1 + (t.fav + 17 * c.round) % 50] AS course_slug,
       c.u
FROM (
    SELECT g.i, g.at,
           CASE WHEN g.k < $r0 THEN 0 WHEN g.k < $r0 + $r1 THEN 1 ELSE 2 END AS round,
           CASE WHEN g.k < $r0 THEN g.k + 1 WHEN g.k < $r0 + $r1 THEN g.k - $r0 + 1
                ELSE g.k - $r0 - $r1 + 1 END AS u
    FROM (SELECT i, ((i - 1) * $perm_a + $perm_b) % $completions AS k, {_completed_at("i")} AS at
          FROM generate_series(1::bigint, $completions::bigint) AS i) AS g
) AS c,
LATERAL (SELECT {_learner_traits("c.u")}) AS t
OFFSET 0  -- computed once per row: without it the item's column references would repeat each column's work
) AS r
"""
COMPLETION_COLUMNS = [
    "seq",
    "id",
    "txid",
    "user_id",
    "course_id",
    "course_version",
    "audience",
    "province_code",
    "current_province_code",
    "source",
    "client_id",
    "external_ref",
    "completed_at",
    "created_at",
    "feed_item",
]


def _inverse(k: str) -> str:
    return f"(((({k}) - $perm_b) % $completions + $completions) % $completions * $perm_inv % $completions)"


LEARNER_YEARS = f"""
SELECT 2025 AS year, {_audience()} AS audience, md5('hocso-bench-user-' || f.u)::uuid AS user_id,
       {_province_at("f.at")} AS province_code,
       (f.at AT TIME ZONE '{LOCAL_TZ}')::date AS day
FROM (
    SELECT u, {_completed_at("(first_k + 1)")} AS at
    FROM (SELECT u, least({_inverse("u - 1")},
                          CASE WHEN u <= $r1 THEN {_inverse("$r0 + u - 1")} END,
                          CASE WHEN u <= $r2 THEN {_inverse("$r0 + $r1 + u - 1")} END) AS first_k
          FROM generate_series(1::bigint, $r0::bigint) AS u) AS m
) AS f,
LATERAL (SELECT {_learner_traits("f.u")}) AS t
"""
LEARNER_YEAR_COLUMNS = ["year", "audience", "user_id", "province_code", "day"]

COMPLETION_COUNTERS = f"""
INSERT INTO completion_counter (day, audience, province_code, course_id, count)
SELECT (completed_at AT TIME ZONE '{LOCAL_TZ}')::date, audience, coalesce(province_code, ''), course_id,
       count(*)
FROM completion GROUP BY 1, 2, 3, 4;
-- Year roll-up (migration 0003), summed from the day buckets just built: the same statement string so it runs
-- after them on the same connection; `day` is already the local day, so its year is the local year.
INSERT INTO completion_year_counter (year, audience, province_code, count)
SELECT EXTRACT(YEAR FROM day)::int, audience, province_code, sum(count)
FROM completion_counter GROUP BY 1, 2, 3
"""
LEARNER_COUNTERS = """
INSERT INTO learner_counter (year, audience, province_code, count)
SELECT year, audience, province_code, count(*) FROM learner_year GROUP BY 1, 2, 3
"""


def bind(sql: str, params: dict[str, object]) -> tuple[str, list[object]]:
    """Turn `$name` placeholders into asyncpg's `$1…$n`; bare numbers get an explicit type so PostgreSQL never
    has to guess (`$r0 + $r1` would otherwise be two unknowns)."""
    order: list[str] = []

    def number(match: re.Match) -> str:
        name, cast = match.group(1), match.group(2)
        if name not in order:
            order.append(name)
        placeholder = f"${order.index(name) + 1}"
        if cast:
            return placeholder + cast
        value = params[name]
        if isinstance(value, bool):
            return placeholder
        if isinstance(value, int):
            return placeholder + "::bigint"
        if isinstance(value, float):
            return placeholder + "::float8"
        return placeholder

    sql = re.sub(r"\$([a-z_][a-z0-9_]*)(::)?", number, sql)
    return sql, [params[n] for n in order]
