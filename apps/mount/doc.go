// Package mount dispatches HTTP and WebSocket scopes to apps by path prefix, and fans
// the lifespan scope out to every mounted app.
//
// # The path rule
//
// asgo follows ASGI 2.4 and Starlette's Mount: a scope's Path is always the full
// request path, root path included, and RootPath is the part of it that belongs to the
// mount points above the app. The path an app routes on is RoutePath(RootPath, Path):
// Path with the RootPath prefix removed. Mounting an app at "/wsgi" hands it a copy of
// the scope with RootPath extended by "/wsgi" and Path (and RawPath) unchanged:
//
//	request /wsgi/env?x=1 with root_path ""   -> app at /wsgi sees root_path "/wsgi", path "/wsgi/env"
//	request /api/wsgi/env with root_path "/api" -> root_path "/api/wsgi", path "/api/wsgi/env"
//
// so a WSGI adapter derives SCRIPT_NAME = root_path and PATH_INFO = RoutePath(...) =
// "/env". A prefix matches only at a segment boundary: "/wsgi" matches "/wsgi" and
// "/wsgi/..." but not "/wsgix". The longest matching prefix wins; the prefix "/" is the
// fallback for everything else and leaves RootPath unchanged. The bare prefix itself
// ("/wsgi") matches too and gives the app the route path "" (Starlette redirects it to
// "/wsgi/" instead; asgo leaves that choice to the mounted app).
//
// # Lifespan
//
// A lifespan scope is fanned out (package apps/fanout) to every mounted app in the order
// they were mounted; shutdown runs in reverse. Apps that do not support lifespan are
// skipped; a failing startup fails the whole startup with "prefix: message".
package mount
