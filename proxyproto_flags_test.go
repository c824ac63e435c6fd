package asgo

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestProxyProtocolFlag(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", nil, io.Discard)
	if err != nil || o.config.Server.ProxyProtocol {
		t.Fatalf("default on: %v", err)
	}
	if o, err = parseFlags("asgo serve", nil, "", []string{"--proxy-protocol"}, io.Discard); err != nil || !o.config.Server.ProxyProtocol {
		t.Fatalf("--proxy-protocol: %v", err)
	}
	t.Setenv("ASGO_PROXY_PROTOCOL", "true")
	if o, err = parseFlags("asgo serve", nil, "", nil, io.Discard); err != nil || !o.config.Server.ProxyProtocol {
		t.Fatalf("ASGO_PROXY_PROTOCOL: %v", err)
	}
	var help bytes.Buffer
	parseFlags("asgo serve", nil, "", []string{"--help"}, &help)
	if !strings.Contains(help.String(), "--proxy-protocol") {
		t.Error("help lacks --proxy-protocol")
	}
}
