package uwsgi

import (
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// nginxCaptured is a packet captured from nginx 1.22.1 (Debian 12) with the
// uwsgi_params of cmd/asgo/testdata/nginx/uwsgi.conf.tmpl and SCRIPT_NAME /app, for
//
//	curl -H 'Cookie: a=1' -H 'Cookie: b=2' -H 'X-Forwarded-For: 203.0.113.9' \
//	     --data-binary 'hello uwsgi' 'http://127.0.0.1:38911/app/echo%20me?x=1'
//
// Note the empty SERVER_NAME (no server_name), the repeated HTTP_COOKIE and the
// HTTP_CONTENT_* duplicates of CONTENT_*. It is also a fuzz seed
// (testdata/fuzz/FuzzParse/nginx-1.22-post).
var nginxCaptured = []byte(
	"\x00<\x02\x00\f\x00QUERY_STRING\x03\x00x=1\x0e\x00REQUEST_METHOD\x04\x00POST\f\x00CONTENT_TYPE!\x00application/x-www-form-urlencoded\x0e\x00CONTENT_LENGTH\x02\x0011\v\x00REQUEST_URI\x12\x00/app/echo%20me?x=1\t\x00PATH_INFO\f\x00/app/echo me\r\x00DOCUMENT_ROOT\x14\x00/tmp/deploy-ngx/html\x0f\x00SERVER_PROTOCOL\b\x00HTTP/1.1\x0e\x00REQUEST_SCHEME\x04\x00http\v\x00REMOTE_ADDR\t\x00127.0.0.1\v\x00REMOTE_PORT\x05\x0052584\v\x00SERVER_PORT\x05\x0038911\v\x00SERVER_NAME\x00\x00\t\x00HTTP_HOST\t\x00127.0.0.1\v\x00SCRIPT_NAME\x04\x00/app\x0f\x00HTTP_USER_AGENT\v\x00curl/7.88.1\v\x00HTTP_ACCEPT\x03\x00*/*\v\x00HTTP_COOKIE\x03\x00a=1\v\x00HTTP_COOKIE\x03\x00b=2\x14\x00HTTP_X_FORWARDED_FOR\v\x00203.0.113.9\x13\x00HTTP_CONTENT_LENGTH\x02\x0011\x11\x00HTTP_CONTENT_TYPE!\x00application/x-www-form-urlencodedhello uwsgi")

func TestNginxCapturedPacket(t *testing.T) {
	res := feedAll(t, Config{}, nginxCaptured)
	if res.err != nil || len(res.msgs) != 1 || res.msgs[0].body != "hello uwsgi" || !res.msgs[0].ended {
		t.Fatalf("%+v", res)
	}
	server := &asgi.Addr{Host: "127.0.0.1", Port: 9000}
	s := headOf(t, append([]byte(nil), nginxCaptured...), ScopeDefaults{Server: server})
	want := scopeView{
		Version: "1.1", Method: "POST", Scheme: "http", Path: "/app/echo me", RawPath: "/app/echo%20me",
		Query: "x=1", Root: "/app",
		Headers: "host: 127.0.0.1\nuser-agent: curl/7.88.1\naccept: */*\ncookie: a=1\ncookie: b=2\n" +
			"x-forwarded-for: 203.0.113.9\ncontent-type: application/x-www-form-urlencoded\ncontent-length: 11\n",
		Client: `{"host":"127.0.0.1","port":52584}`, Server: `{"host":"127.0.0.1","port":9000}`,
	}
	if got := view(s); got != want {
		t.Fatalf("scope\n got %+v\nwant %+v", got, want)
	}
}
