package eventloop

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// uwsgiPacket encodes a uwsgi request packet with the given vars (key, value, ...).
func uwsgiPacket(modifier1 byte, kv ...string) []byte {
	var vars []byte
	for i := 0; i+1 < len(kv); i += 2 {
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(kv[i])))
		vars = append(vars, kv[i]...)
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(kv[i+1])))
		vars = append(vars, kv[i+1]...)
	}
	p := []byte{modifier1}
	p = binary.LittleEndian.AppendUint16(p, uint16(len(vars)))
	p = append(p, 0)
	return append(p, vars...)
}

func uwsgiExchange(t *testing.T, addr string, packet []byte, body string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append(packet, body...)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c) // the server closes after one response
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestUWSGIListenerServesOneRequestPerConnection(t *testing.T) {
	srv, _ := startListeners(t, Config{UWSGIBinds: []string{"127.0.0.1:0"}}, nil)
	addr := srv.Addrs()[0].String()
	got := uwsgiExchange(t, addr, uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/hello",
		"REQUEST_URI", "/hello", "SERVER_PROTOCOL", "HTTP/1.1", "REMOTE_ADDR", "10.0.0.1", "REMOTE_PORT", "4000"), "")
	if !strings.HasPrefix(got, "HTTP/1.0 200") || !strings.HasSuffix(got, "Hello, World!") || strings.Contains(got, "chunked") {
		t.Errorf("GET over uwsgi:\n%s", got)
	}
	got = uwsgiExchange(t, addr, uwsgiPacket(0, "REQUEST_METHOD", "POST", "PATH_INFO", "/echo",
		"CONTENT_LENGTH", "11", "SERVER_PROTOCOL", "HTTP/1.1"), "hello uwsgi")
	if !strings.HasPrefix(got, "HTTP/1.0 200") || !strings.HasSuffix(got, "\r\n\r\nhello uwsgi") {
		t.Errorf("POST over uwsgi:\n%s", got)
	}
	if got := uwsgiExchange(t, addr, uwsgiPacket(5, "REQUEST_METHOD", "GET"), ""); !strings.Contains(got, " 501 ") {
		t.Errorf("modifier1 5: %q, want 501", got)
	}
}
