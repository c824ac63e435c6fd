// Package router dispatches scopes to apps by exact path and method: the small router
// behind asgo's demo app. Unknown paths get 404, known paths with another method get
// 405 with an Allow header, WebSocket scopes go to the app registered for the path with
// WebSocket (and are refused with a close before acceptance otherwise). "OPTIONS *"
// (the asterisk-form target, which servers pass as the path "*") gets 200 with an
// Allow header listing every method registered at any path, and OPTIONS.
//
// Paths are matched on the route path, mount.RoutePath(root_path, path), so a router
// works unchanged when mounted below a prefix or served with --root-path; the empty
// route path (a mount point requested without its trailing slash) matches "/".
//
// Lifespan scopes are fanned out (apps/fanout) to the registered apps in the order they
// were first registered, each app once.
package router
