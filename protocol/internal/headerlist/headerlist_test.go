package headerlist

import (
	"reflect"
	"testing"
)

func TestCut(t *testing.T) {
	tests := []struct {
		name string
		list string
		want []string // every element, in order
	}{
		{"empty", "", []string{""}},
		{"one", "close", []string{"close"}},
		{"ows around elements", " \tkeep-alive ,\tUpgrade\t", []string{"keep-alive", "Upgrade"}},
		{"empty elements kept", "a,,b,", []string{"a", "", "b", ""}},
		{"only commas", ",", []string{"", ""}},
		{"inner spaces kept", "a b , c", []string{"a b", "c"}},
		{"other whitespace is not OWS", "a\v", []string{"a\v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			list := []byte(tt.list)
			for {
				elem, rest, more := Cut(list)
				got = append(got, string(elem))
				if !more {
					if rest != nil {
						t.Fatalf("rest %q after the last element", rest)
					}
					break
				}
				list = rest
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("elements %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		name string
		list string
		tok  string
		want bool
	}{
		{"exact", "websocket", "websocket", true},
		{"case-insensitive", "keep-alive, Upgrade", "upgrade", true},
		{"ows", "a ,\t close\t", "close", true},
		{"empty elements skipped", ",,close,", "close", true},
		{"absent", "keep-alive", "close", false},
		{"substring is not a token", "closed, xclose", "close", false},
		{"empty list", "", "close", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Contains([]byte(tt.list), tt.tok); got != tt.want {
				t.Fatalf("Contains(%q, %q) = %v, want %v", tt.list, tt.tok, got, tt.want)
			}
		})
	}
}

func TestTrimOWS(t *testing.T) {
	for in, want := range map[string]string{"": "", " \t": "", "\ta b ": "a b", "x": "x", " x\r": "x\r"} {
		if got := string(TrimOWS([]byte(in))); got != want {
			t.Errorf("TrimOWS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	list := []byte("keep-alive, foo ,\tUpgrade")
	allocs := testing.AllocsPerRun(100, func() {
		if !Contains(list, "upgrade") || Contains(list, "close") {
			t.Fatal("wrong answer")
		}
		_, _, _ = Cut(list)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations, want 0", allocs)
	}
}
