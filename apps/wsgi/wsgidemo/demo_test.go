package wsgidemo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestDemoRoutes(t *testing.T) {
	app := wsgi.New(Handler(), wsgi.Config{Workers: 2})
	defer app.Close()
	body := strings.Repeat("0123456789", 10_000)
	tests := []struct {
		name, method, target, body string
		status                     int
		want                       string
	}{
		{"hello", "GET", "/wsgi/", "", 200, "Hello from a WSGI-style handler (HTTP/1.1)\n"},
		{"hello without slash", "GET", "/wsgi", "", 200, "Hello from a WSGI-style handler (HTTP/1.1)\n"},
		{"echo", "POST", "/wsgi/echo", body, 200, body},
		{"echo needs POST", "GET", "/wsgi/echo", "", 405, "Method Not Allowed\n"},
		{"not found", "GET", "/wsgi/nope", "", 404, "Not Found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := asgitest.NewHTTPScope(tt.method, tt.target, "content-length", itoa(len(tt.body)))
			scope.RootPath = "/wsgi"
			rec := asgitest.NewRecorder(asgi.ScopeHTTP)
			err := app.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body([]byte(tt.body), 4096)...), rec.Send)
			resp := rec.Response()
			if err != nil || rec.Err != nil || resp.Status != tt.status || string(resp.Body) != tt.want {
				t.Fatalf("err %v/%v status %d body %.80q", err, rec.Err, resp.Status, resp.Body)
			}
		})
	}
}

func TestDemoEnviron(t *testing.T) {
	app := wsgi.New(Handler(), wsgi.Config{Workers: 1})
	defer app.Close()
	scope := asgitest.NewHTTPScope("GET", "/wsgi/environ?x=1", "x-demo", "yes")
	scope.RootPath = "/wsgi"
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := app.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send); err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(rec.Response().Body, &env); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"SCRIPT_NAME": "/wsgi", "PATH_INFO": "/environ", "QUERY_STRING": "x=1",
		"HTTP_X_DEMO": "yes", "wsgi.url_scheme": "http", "wsgi.multithread": true, "wsgi.input": "<*wsgi.Input>"} {
		if env[k] != want {
			t.Errorf("%s = %#v, want %#v", k, env[k], want)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	b, _ := json.Marshal(n)
	return string(b)
}
