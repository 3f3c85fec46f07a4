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
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "instance"]
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    other = [f"{method.upper()} {path} {status}" for path, ops in spec["paths"].items()
             for method, op in ops.items() for status, answer in op.get("responses", {}).items()
             if status.startswith(("4", "5"))
             and answer.get("content", {}).get("application/problem+json") != problem]
    assert other == []
