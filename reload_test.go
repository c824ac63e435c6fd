package asgo

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/eventloop"
)

func TestReloadRunsHooksAndReadsTheLevelFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "level")
	if err := os.WriteFile(path, []byte("warn\n# comment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	level := new(slog.LevelVar)
	var order []string
	cfg := Config{LogLevel: level, LogLevelFile: path, ReloadHooks: []ReloadHook{
		{Name: "tls", Reload: func() error { order = append(order, "tls"); return nil }},
		{Name: "other", Reload: func() error { order = append(order, "other"); return errors.New("bad file") }},
	}}
	srv := eventloop.New(eventloop.Config{Logger: log}, nil)
	reload(srv, &cfg, log)
	if level.Level() != slog.LevelWarn {
		t.Errorf("level %v after the reload, want WARN", level.Level())
	}
	if strings.Join(order, ",") != "tls,other" {
		t.Errorf("hooks ran %v", order)
	}
	want := `level=ERROR msg="reload failed in part" log-level=warn tls=ok other="error: bad file"`
	if !strings.Contains(buf.String(), want) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("log:\n%s\nwant one line with %s", buf.String(), want)
	}
	if err := os.WriteFile(path, []byte("shout"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.ReloadHooks = cfg.ReloadHooks[:1]
	buf.Reset()
	reload(srv, &cfg, log)
	if level.Level() != slog.LevelWarn || !strings.Contains(buf.String(), `log-level="error: `) {
		t.Errorf("a bad level file: level %v, log %s", level.Level(), buf.String())
	}
}
