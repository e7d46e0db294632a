"""Security headers, cookies over HTTPS, pages without inline script or style (so the
Content-Security-Policy can forbid them), and the secret key file."""
import os
import re
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from portal import ROOT, config, create_app


def test_pages_carry_the_policy_and_plain_http_gets_no_hsts(client):
    response = client.get("/login")
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = dict(p.strip().split(" ", 1) for p in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    # The tests run as `make run` does, on plain HTTP: no HSTS, no Secure flag.
    assert "Strict-Transport-Security" not in headers
    assert "Secure" not in headers["Set-Cookie"]
    # /verify stays public.
    assert client.get("/verify").status_code == 200


def test_over_https_cookies_are_secure_and_hsts_is_sent(app):
    secure = create_app({"TESTING": True, "SECURE_COOKIES": True,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"]})
    response = secure.test_client().get("/login", base_url="https://localhost")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie and "HttpOnly" in cookie
    assert secure.config["REMEMBER_COOKIE_SECURE"] and secure.config["PREFERRED_URL_SCHEME"] == "https"


def test_production_defaults_to_secure_cookies(monkeypatch):
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    production = create_app()
    assert production.config["SECURE_COOKIES"] and production.config["SESSION_COOKIE_SECURE"]
    monkeypatch.setenv("SECURE_COOKIES", "0")
    assert not create_app().config["SESSION_COOKIE_SECURE"]


# Templates rendered by WeasyPrint into PDFs, never served to a browser.
DOCUMENTS = re.compile(r'{%\s*extends\s+"exports/_document.html"')
INLINE = re.compile(r"<script(?![^>]*\ssrc=)|<style|\son[a-z]+\s*=|\sstyle\s*=|hx-on|javascript:", re.I)


def test_no_page_template_has_inline_script_handlers_or_style():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        if path.name == "_document.html" or DOCUMENTS.search(text):
            continue
        found += [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}" for m in INLINE.finditer(text)]
    assert found == [], f"move these to static/js/app.js or static/css/app.css: {found}"


def _key(directory: str) -> tuple[str, int]:
    key = config._secret_key(directory)
    return key, stat.S_IMODE(os.stat(Path(directory) / "secret_key").st_mode)


def test_the_secret_key_is_made_once_owner_only_even_when_processes_race(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with ProcessPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(_key, [str(tmp_path)] * 32))
    keys = {key for key, _ in results}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert {mode for _, mode in results} == {0o600}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
    # A key an older install left readable by others is closed up.
    (tmp_path / "secret_key").chmod(0o644)
    assert _key(str(tmp_path))[1] == 0o600
