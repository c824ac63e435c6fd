package wsgi

import (
	"testing"
	"time"
)

func TestSetDefaultsFillsZeroFieldsWhenTheAppStarts(t *testing.T) {
	defer SetDefaults(Config{})
	built := New(nil, Config{})                               // built before the defaults are set, as with asgo.Run
	own := New(nil, Config{Workers: 5, Timeout: time.Second}) // its own fields win
	SetDefaults(Config{Workers: 3, Backlog: 7, Timeout: time.Minute})
	defer built.Close()
	defer own.Close()
	if got := built.Pool().Workers(); got != 3 {
		t.Errorf("workers = %d, want the default 3", got)
	}
	if got := cap(built.Pool().jobs); got != 3+7 {
		t.Errorf("queue capacity = %d, want workers+backlog 10", got)
	}
	if built.cfg.Timeout != time.Minute {
		t.Errorf("timeout = %v, want the default 1m", built.cfg.Timeout)
	}
	if got := own.Pool().Workers(); got != 5 || own.cfg.Timeout != time.Second {
		t.Errorf("own config: workers %d, timeout %v; want 5 and 1s", got, own.cfg.Timeout)
	}
	SetDefaults(Config{})
	if fresh := New(nil, Config{}); fresh.Pool().Workers() != 10 || fresh.cfg.Timeout != 30*time.Second {
		t.Errorf("package defaults: workers %d, timeout %v; want 10 and 30s", fresh.Pool().Workers(), fresh.cfg.Timeout)
	}
}
