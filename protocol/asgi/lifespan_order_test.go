package asgi

import "testing"

func TestLifespanOrderViolations(t *testing.T) {
	const prefix = "Got invalid state transition on lifespan protocol. Unexpected ASGI message "
	tests := []struct {
		name  string
		state LifespanSendState
		msg   Message
		want  string
	}{
		{"startup complete before startup", LifespanIdle, &LifespanStartupComplete{}, "'lifespan.startup.complete'."},
		{"startup failed before startup", LifespanIdle, &LifespanStartupFailed{}, "'lifespan.startup.failed'."},
		{"shutdown complete while idle", LifespanIdle, &LifespanShutdownComplete{}, "'lifespan.shutdown.complete'."},
		{"shutdown failed while idle", LifespanIdle, &LifespanShutdownFailed{}, "'lifespan.shutdown.failed'."},
		{"shutdown complete to startup", LifespanStartingUp, &LifespanShutdownComplete{}, "'lifespan.shutdown.complete'."},
		{"shutdown failed to startup", LifespanStartingUp, &LifespanShutdownFailed{Message: "x"}, "'lifespan.shutdown.failed'."},
		{"startup complete to shutdown", LifespanShuttingDown, &LifespanStartupComplete{}, "'lifespan.startup.complete'."},
		{"startup failed to shutdown", LifespanShuttingDown, &LifespanStartupFailed{}, "'lifespan.startup.failed'."},
		{"server message sent by the app", LifespanStartingUp, &LifespanStartup{}, "'lifespan.startup'."},
		{"shutdown request sent by the app", LifespanShuttingDown, &LifespanShutdown{}, "'lifespan.shutdown'."},
		{"http message on lifespan", LifespanStartingUp, &HTTPResponseStart{Status: 200}, "'http.response.start'."},
		{"websocket message on lifespan", LifespanShuttingDown, &WebSocketAccept{}, "'websocket.accept'."},
		{"nil message", LifespanStartingUp, nil, "'<nil>'."},
		{"nil message while idle", LifespanIdle, nil, "'<nil>'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := LifespanOrder{State: tt.state}
			err := o.Check(tt.msg)
			if err == nil || err.Error() != prefix+tt.want || !IsContractError(err) {
				t.Fatalf("err = %v, want contract error %q", err, prefix+tt.want)
			}
			if o.State != tt.state {
				t.Fatalf("state after a refused message = %v, want %v unchanged", o.State, tt.state)
			}
		})
	}
}

func TestLifespanOrderReplies(t *testing.T) {
	tests := []struct {
		state LifespanSendState
		msg   Message
	}{
		{LifespanStartingUp, &LifespanStartupComplete{}},
		{LifespanStartingUp, &LifespanStartupFailed{Message: "no database"}},
		{LifespanShuttingDown, &LifespanShutdownComplete{}},
		{LifespanShuttingDown, &LifespanShutdownFailed{}},
	}
	for _, tt := range tests {
		t.Run(tt.state.String()+"/"+tt.msg.Type(), func(t *testing.T) {
			o := LifespanOrder{State: tt.state}
			if !o.Waiting() {
				t.Fatal("Waiting = false with a phase open")
			}
			if err := o.Check(tt.msg); err != nil {
				t.Fatal(err)
			}
			if o.State != LifespanIdle || o.Waiting() {
				t.Fatalf("state after the reply = %v, want idle", o.State)
			}
			if err := o.Check(tt.msg); err == nil {
				t.Fatal("a second reply in the same phase was accepted")
			}
		})
	}
}

func TestLifespanOrderFullProtocol(t *testing.T) {
	var o LifespanOrder
	if o.Waiting() || o.State != LifespanIdle {
		t.Fatalf("zero value state = %v, want idle", o.State)
	}
	o.State = LifespanStartingUp
	if err := o.Check(&LifespanStartupComplete{}); err != nil {
		t.Fatal(err)
	}
	o.State = LifespanShuttingDown
	if err := o.Check(&LifespanShutdownComplete{}); err != nil {
		t.Fatal(err)
	}
	if o.State != LifespanIdle {
		t.Fatalf("state = %v, want idle", o.State)
	}
}

func TestLifespanSendStateString(t *testing.T) {
	for s, want := range map[LifespanSendState]string{
		LifespanIdle:         "idle",
		LifespanStartingUp:   "starting-up",
		LifespanShuttingDown: "shutting-down",
		LifespanSendState(9): "invalid",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
	}
}
