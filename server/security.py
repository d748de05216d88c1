"""Response headers that make the page private and hard to abuse.

The Content-Security-Policy allows only our own origin: no third-party script, style, font, image or
connection can be loaded, inline scripts are refused, and WebAssembly (the meshopt decoder) is the one
exception to 'no eval'. Referrer and permissions are locked down; nothing identifies a visitor. Over HTTPS
(directly or through a trusted proxy) browsers are told to keep to HTTPS (HSTS).
"""

from __future__ import annotations

from aiohttp import web

from .errors import Handler

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self' blob:",  # GLTFLoader reads a GLB's embedded textures from blob: URLs it made itself
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # The microphone for this site's own pages only: the chair and a resident given the floor speak (stage audio).
    "Permissions-Policy": "camera=(), microphone=(self), geolocation=(), interest-cohort=()",
    "X-Frame-Options": "DENY",
}


HSTS = "max-age=31536000"  # one year; no includeSubDomains: other sites of the city's domain are not ours


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:  # directly, or as a trusted proxy says (server/api/client.py rewrote the request)
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
