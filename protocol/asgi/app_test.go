package asgi

import (
	"context"
	"testing"
)

type inlineApp struct{ AppFunc }

func (inlineApp) Inline(Scope) bool { return true }

type recyclingApp struct {
	inlineApp
	recycles bool
}

func (a recyclingApp) Recycles() bool { return a.recycles }

func TestCanRecycle(t *testing.T) {
	noop := AppFunc(func(context.Context, Scope, Receive, Send) error { return nil })
	tests := []struct {
		name string
		app  App
		want bool
	}{
		{"never inline", noop, true},
		{"inline without a promise", inlineApp{noop}, false},
		{"inline, recycles", recyclingApp{inlineApp{noop}, true}, true},
		{"inline, keeps its calls", recyclingApp{inlineApp{noop}, false}, false},
	}
	for _, tt := range tests {
		if got := CanRecycle(tt.app); got != tt.want {
			t.Errorf("%s: CanRecycle = %v, want %v", tt.name, got, tt.want)
		}
	}
}

type bodyRecyclingApp struct {
	AppFunc
	recycles bool
}

func (a bodyRecyclingApp) RecyclesBody(Scope) bool { return a.recycles }

func TestCanRecycleBody(t *testing.T) {
	noop := AppFunc(func(context.Context, Scope, Receive, Send) error { return nil })
	scope := &HTTPScope{Method: "POST"}
	if CanRecycleBody(noop, scope) || CanRecycleBody(recyclingApp{inlineApp{noop}, true}, scope) {
		t.Error("an app without the promise: CanRecycleBody = true")
	}
	if !CanRecycleBody(bodyRecyclingApp{noop, true}, scope) || CanRecycleBody(bodyRecyclingApp{noop, false}, scope) {
		t.Error("CanRecycleBody does not pass the app's answer on")
	}
}
