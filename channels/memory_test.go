package channels_test

import (
	"testing"

	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/channels/channelstest"
)

func TestMemoryContract(t *testing.T) {
	channelstest.Run(t, func(t *testing.T) (a, b channels.Layer) {
		l := channels.NewMemory(channels.MemoryConfig{})
		t.Cleanup(func() { l.Close() })
		return l, l
	})
}

func TestDefaultForwards(t *testing.T) {
	m := channels.NewMemory(channels.MemoryConfig{Name: "test-instance"})
	prev := channels.SetDefault(m)
	defer channels.SetDefault(prev)
	if got := channels.Default().Name(); got != "test-instance" {
		t.Fatalf("Default().Name() = %q", got)
	}
}
