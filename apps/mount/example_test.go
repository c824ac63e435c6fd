package mount_test

import (
	"context"
	"fmt"

	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// where answers with the root path and path it sees, and the path it routes on.
func where(name string) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		s := scope.(*asgi.HTTPScope)
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		body := fmt.Sprintf("%s: root_path=%q path=%q route=%q", name, s.RootPath, s.Path, mount.RoutePath(s.RootPath, s.Path))
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
	})
}

// New dispatches by path prefix: the longest prefix wins, "/" is the fallback, and the
// mounted app sees the prefix in its root path.
func ExampleNew() {
	app := mount.New().
		Add("/api", where("api")).
		Add("/api/v2", where("v2")).
		Add("/", where("site"))
	for _, path := range []string{"/api/users", "/api/v2/users", "/api", "/apiary", "/"} {
		resp, _ := asgitest.Call(context.Background(), app, "GET", path, nil)
		fmt.Println(string(resp.Body))
	}
	// Output:
	// api: root_path="/api" path="/api/users" route="/users"
	// v2: root_path="/api/v2" path="/api/v2/users" route="/users"
	// api: root_path="/api" path="/api" route=""
	// site: root_path="" path="/apiary" route="/apiary"
	// site: root_path="" path="/" route="/"
}
