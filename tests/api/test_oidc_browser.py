"""A citizen signs in with e-ID from a single-page app, in a real browser: the SPA, HocSo and the mock provider
each served on loopback, Chromium following every redirect as a person's browser would."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from tests.browser import live_server, reserve_port, screenshot_path
from tests.conftest import make_app
from tests.oidc_provider import mock_provider

# The front end's side of docs/identity.md: a verifier kept in sessionStorage, its S256 sent at the start, the
# one-time code read from the fragment and exchanged with the verifier; tokens only ever in response bodies.
SPA_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Học số</title>
<style>body{font-family:sans-serif;margin:3em}button{font-size:1.2em;padding:.5em 1em}</style></head>
<body><h1>Học số — đăng nhập</h1><button id="eid">Đăng nhập bằng VNeID</button><p id="who"></p>
<script>
const API = "%(api)s";
const b64url = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_")
  .replace(/=+$/, "");
document.getElementById("eid").onclick = async () => {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("verifier", verifier);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const r = await fetch(API + "/api/v1/auth/oidc/vneid/start", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({return_to: location.origin + "/ket-qua", handoff_challenge: challenge})});
  location.assign((await r.json()).authorization_url);
};
if (location.pathname === "/ket-qua") (async () => {
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  history.replaceState(null, "", location.pathname);  // the code leaves the address bar at once
  const r = await fetch(API + "/api/v1/auth/oidc/token", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({code, code_verifier: sessionStorage.getItem("verifier")})});
  const tokens = await r.json();
  const me = await (await fetch(API + "/api/v1/users/me",
    {headers: {Authorization: "Bearer " + tokens.access_token}})).json();
  window.hocsoToken = tokens.access_token;
  document.getElementById("who").textContent = "Xin chào " + me.full_name + " — mức xác thực: " + me.assurance;
})();
</script></body></html>"""


def spa(api: str) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    @app.get("/ket-qua")
    async def page() -> HTMLResponse:
        return HTMLResponse(SPA_PAGE % {"api": api})

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status_code=204)

    return app


async def test_a_citizen_signs_in_with_e_id_from_an_spa(page, settings, committed_db, keyring):
    hocso_port, spa_port = reserve_port(), reserve_port()
    hocso, spa_origin = f"http://127.0.0.1:{hocso_port}", f"http://127.0.0.1:{spa_port}"
    async with mock_provider() as provider:
        settings.public_base_url = hocso
        settings.oidc_providers = [provider.config()]
        settings.oidc_return_urls = [f"{spa_origin}/ket-qua"]
        settings.cors_origins = [spa_origin]
        async with (live_server(make_app(settings, committed_db, keyring), port=hocso_port),
                    live_server(spa(hocso), port=spa_port)):
            await page.goto(spa_origin)
            await page.click("#eid")
            await page.wait_for_url(f"{spa_origin}/ket-qua")
            await page.wait_for_function("document.getElementById('who').textContent.length > 0")
            await page.screenshot(path=screenshot_path("oidc-spa-signed-in"))
            assert await page.text_content("#who") == "Xin chào Nguyễn Văn Dân — mức xác thực: eid"
            assert "code=" not in page.url and page.console_errors == []
