package asgo

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"bind": "ASGO_BIND", "timeout-keep-alive": "ASGO_TIMEOUT_KEEP_ALIVE",
		"ws-max-size": "ASGO_WS_MAX_SIZE", "h2-max-concurrent-streams": "ASGO_H2_MAX_CONCURRENT_STREAMS"} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("ASGO_BIND", "127.0.0.1:9000, [::1]:9001")
	t.Setenv("ASGO_TIMEOUT_KEEP_ALIVE", "7s")
	t.Setenv("ASGO_WS_MAX_SIZE", "1024")
	t.Setenv("ASGO_H2_MAX_CONCURRENT_STREAMS", "50")
	t.Setenv("ASGO_ACCESS_LOG", "false")
	t.Setenv("ASGO_HTTP2", "0")
	t.Setenv("ASGO_LOG_LEVEL", "debug")
	t.Setenv("ASGO_STATIC", "/s=public,/m=media files")
	t.Setenv("ASGO_APP", "hello")
	t.Setenv("ASGO_PROXY_HEADERS", "false")
	o, err := parseFlags("asgo serve", []string{"demo", "hello"}, "demo", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config.Server
	if !reflect.DeepEqual(c.Binds, []string{"127.0.0.1:9000", "[::1]:9001"}) {
		t.Errorf("binds %q", c.Binds)
	}
	if c.KeepAliveTimeout != 7*time.Second || c.WebSocket.MaxMessageSize != 1024 || c.HTTP2.MaxConcurrentStreams != 50 ||
		c.AccessLog || !c.DisableHTTP2 || o.logLevel.String() != "DEBUG" || o.app != "hello" || !o.config.ProxyHeaders.Disabled {
		t.Errorf("config from the environment: %+v, app %q, log level %v", c, o.app, o.logLevel)
	}
	if len(o.config.Static) != 2 || o.config.Static[1].Dir != "media files" {
		t.Errorf("static %+v", o.config.Static)
	}
}

func TestEmptyVariableIsUnset(t *testing.T) {
	t.Setenv("ASGO_TIMEOUT_KEEP_ALIVE", "")
	t.Setenv("ASGO_LOG_LEVEL", "")
	t.Setenv("ASGO_FORWARDED_ALLOW_IPS", "")
	t.Setenv("FORWARDED_ALLOW_IPS", "10.0.0.3")
	o, err := parseFlags("asgo serve", nil, "", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.config.Server.KeepAliveTimeout != 0 || o.logLevel.String() != "INFO" || !reflect.DeepEqual(o.config.ProxyHeaders.Trusted, []string{"10.0.0.3"}) {
		t.Fatalf("keep-alive %v log level %v trusted %v", o.config.Server.KeepAliveTimeout, o.logLevel, o.config.ProxyHeaders.Trusted)
	}
}

func TestCommandLineWinsOverEnvironment(t *testing.T) {
	t.Setenv("ASGO_BIND", "127.0.0.1:9000")
	t.Setenv("ASGO_TIMEOUT_KEEP_ALIVE", "7s")
	t.Setenv("ASGO_ACCESS_LOG", "false")
	o, err := parseFlags("asgo serve", nil, "", []string{"--bind", "127.0.0.1:1", "--timeout-keep-alive", "2s", "--access-log"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config.Server
	if !reflect.DeepEqual(c.Binds, []string{"127.0.0.1:1"}) || c.KeepAliveTimeout != 2*time.Second || !c.AccessLog {
		t.Errorf("binds %q keep-alive %v access log %v", c.Binds, c.KeepAliveTimeout, c.AccessLog)
	}
}

func TestEnvironmentErrorsNameTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"ASGO_TIMEOUT_KEEP_ALIVE": "soon", "ASGO_WS_MAX_SIZE": "big", "ASGO_ACCESS_LOG": "maybe",
		"ASGO_H2_MAX_FRAME_SIZE": "-1", "ASGO_FORWARDED_ALLOW_IPS": "10.0.0.0/99", "ASGO_LOG_LEVEL": "loud",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			var stderr bytes.Buffer
			if _, err := parseFlags("asgo serve", nil, "", nil, &stderr); err == nil {
				t.Fatalf("%s=%s accepted", name, value)
			}
			msg := stderr.String()
			if name != "ASGO_FORWARDED_ALLOW_IPS" && name != "ASGO_LOG_LEVEL" && !strings.Contains(msg, name) {
				t.Errorf("error does not name %s: %q", name, msg)
			}
		})
	}
}

func TestProxyHeadersFlags(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.config.ProxyHeaders.Disabled || o.config.ProxyHeaders.Trusted != nil {
		t.Fatalf("default %+v, want on with the default trusted set", o.config.ProxyHeaders)
	}
	t.Setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
	if o, _ = parseFlags("asgo serve", nil, "", nil, io.Discard); !reflect.DeepEqual(o.config.ProxyHeaders.Trusted, []string{"10.0.0.1"}) {
		t.Fatalf("FORWARDED_ALLOW_IPS: %+v", o.config.ProxyHeaders)
	}
	t.Setenv("ASGO_FORWARDED_ALLOW_IPS", "10.0.0.2")
	if o, _ = parseFlags("asgo serve", nil, "", nil, io.Discard); !reflect.DeepEqual(o.config.ProxyHeaders.Trusted, []string{"10.0.0.2"}) {
		t.Fatalf("ASGO_FORWARDED_ALLOW_IPS wins over FORWARDED_ALLOW_IPS: %+v", o.config.ProxyHeaders)
	}
	o, err = parseFlags("asgo serve", nil, "", []string{"--forwarded-allow-ips", "*, 192.0.2.0/24", "--proxy-headers=false"}, io.Discard)
	if err != nil || !reflect.DeepEqual(o.config.ProxyHeaders, ProxyHeadersConfig{Disabled: true, Trusted: []string{"*", "192.0.2.0/24"}}) {
		t.Fatalf("%+v %v", o.config.ProxyHeaders, err)
	}
	if _, err := parseFlags("asgo serve", nil, "", []string{"--forwarded-allow-ips", "example.com"}, io.Discard); err == nil {
		t.Fatal("a host name accepted")
	}
	var help bytes.Buffer
	parseFlags("asgo serve", nil, "", []string{"--help"}, &help)
	for _, want := range []string{"Proxy headers:", "--proxy-headers", "--forwarded-allow-ips IP|CIDR", "ASGO_<FLAG>", "FORWARDED_ALLOW_IPS", "comma-separated"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
