"""What a production server needs around the app: the reverse proxy's headers believed for the
configured number of hops (TRUSTED_PROXIES)."""
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app) -> None:
    plain = app.wsgi_app
    fixes: dict[int, ProxyFix] = {}

    # The hop count is read per request, not frozen at start-up, so one app object serves either
    # setting (the tests switch it without building a second app on the same database).
    def wsgi_app(environ, start_response):
        hops = app.config["TRUSTED_PROXIES"]
        if not hops:
            return plain(environ, start_response)
        if hops not in fixes:
            fixes[hops] = ProxyFix(plain, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        return fixes[hops](environ, start_response)

    app.wsgi_app = wsgi_app
