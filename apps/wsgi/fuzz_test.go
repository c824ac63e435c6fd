package wsgi

import (
	"errors"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"200 OK", "404 Not Found", "200", "2OO OK", "100 Continue", "599 x", "200 OK\r\nX: y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, status string) {
		code, err := parseStatus(status)
		if err != nil {
			if !errors.Is(err, ErrInvalidStatus) {
				t.Fatalf("error %v does not wrap ErrInvalidStatus", err)
			}
			return
		}
		if code < 200 || code > 599 || status[3] != ' ' || status[:3] != itoa3(code) {
			t.Fatalf("accepted %q as %d", status, code)
		}
	})
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func FuzzConvertHeaders(f *testing.F) {
	f.Add("Content-Type", "text/plain")
	f.Add("X-A", "1\r\nSet-Cookie: x")
	f.Add("Connection", "close")
	f.Fuzz(func(t *testing.T, name, value string) {
		h, _, err := convertHeaders([][2]string{{name, value}, {"X-Second", "2"}}, make([]byte, 3), make(asgi.Headers, 1, 2))
		if err != nil {
			return
		}
		if string(h[0].Name) != name || string(h[0].Value) != value || string(h[1].Value) != "2" {
			t.Fatalf("converted %q: %q to %q", name, value, h)
		}
		for _, c := range []byte(value) {
			if c == '\r' || c == '\n' || c == 0 {
				t.Fatalf("accepted a control byte in %q", value)
			}
		}
	})
}
