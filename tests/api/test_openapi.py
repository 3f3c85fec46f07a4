"""The published API description is complete enough for the front-end teams to work from."""


async def test_every_operation_is_tagged_and_summarised(client):
    spec = (await client.get("/openapi.json")).json()
    bare = [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method, op in ops.items()
            if not op.get("tags") or not op.get("summary")]
    assert bare == []


async def test_foundation_routes_are_listed(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/logout",
                 "/api/v1/users/me", "/api/v1/admin/users", "/api/v1/admin/users/{user_id}/verify-official",
                 "/api/v1/provinces", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"):
        assert path in paths, path


async def test_every_declared_error_answer_is_the_one_problem_schema(client):
    """…except the verification page's own refusals, which it shows as pages (declared `text/html`)."""
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "instance"]
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    other = [f"{method.upper()} {path} {status}" for path, ops in spec["paths"].items()
             for method, op in ops.items() for status, answer in op.get("responses", {}).items()
             if status.startswith(("4", "5"))
             and answer.get("content", {}).get("application/problem+json") != problem
             and list(answer.get("content", {})) != ["text/html"]]
    assert other == []


def _operations(spec):
    return [(f"{method.upper()} {path}", op) for path, ops in spec["paths"].items() for method, op in ops.items()]


PROBLEM_JSON = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_every_operation_reading_a_bearer_token_declares_401_and_403_as_problems(client):
    spec = (await client.get("/openapi.json")).json()
    secured = [(name, op) for name, op in _operations(spec) if op.get("security")]
    assert len(secured) > 60
    missing = [f"{name} {status}" for name, op in secured for status in ("401", "403")
               if op["responses"].get(status, {}).get("content") != PROBLEM_JSON]
    assert missing == []


async def test_every_json_or_form_body_declares_the_edge_bounds(client):
    spec = (await client.get("/openapi.json")).json()
    bodies = [(name, op) for name, op in _operations(spec)
              if {"application/json", "application/x-www-form-urlencoded"} & set(op.get("requestBody", {}).get(
                  "content", {}))]
    assert len(bodies) > 25
    missing = [f"{name} {status}" for name, op in bodies for status in ("400", "408", "413", "422")
               if status not in op["responses"]]
    assert missing == []


async def test_every_operation_declares_431_and_those_reaching_the_database_503(client):
    spec = (await client.get("/openapi.json")).json()
    operations = _operations(spec)
    assert [name for name, op in operations if "431" not in op["responses"]] == []
    without_outage = {name for name, op in operations if "503" not in op["responses"]}
    # Answered from memory or settings alone: no database or store behind them.
    assert without_outage == {"GET /healthz", "GET /metrics", "GET /.well-known/jwks.json", "GET /api/v1/issuer",
                              "GET /api/v1/auth/oidc/providers"}


async def test_every_operation_naming_something_in_its_path_declares_404(client):
    spec = (await client.get("/openapi.json")).json()
    named = [(name, op) for name, op in _operations(spec)
             if any(p["in"] == "path" and p["schema"].get("type") == "string" for p in op.get("parameters", []))]
    assert [name for name, op in named if "404" not in op["responses"]] == []
    # A programme's year is made on first use: never a 404.
    assert "404" not in spec["paths"]["/api/v1/admin/programmes/{year}"]["put"]["responses"]


async def test_rate_limited_operations_declare_429(client):
    spec = (await client.get("/openapi.json")).json()
    limited = {name for name, op in _operations(spec) if "429" in op["responses"]}
    assert {"POST /api/v1/auth/register", "POST /api/v1/auth/token", "GET /api/v1/certificates/verify/{serial}",
            "POST /api/v1/certificates/verify-credential", "GET /verify/{serial}"} <= limited


async def test_the_verification_page_declares_its_refusals_as_html(client):
    spec = (await client.get("/openapi.json")).json()
    answers = spec["paths"]["/verify/{serial}"]["get"]["responses"]
    assert list(answers["404"]["content"]) == ["text/html"]
    assert list(answers["429"]["content"]) == ["text/html"]


async def test_a_method_not_allowed_lists_every_method_of_the_path(client):
    answer = await client.put("/api/v1/users/me")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}
    answer = await client.delete("/api/v1/completions")
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
