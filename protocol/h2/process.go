package h2

import (
	"golang.org/x/net/http2"
)

// processFrame dispatches one parsed frame.
func (c *Conn) processFrame(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.processData(f)
	case *http2.MetaHeadersFrame:
		return c.processHeaders(f)
	case *http2.SettingsFrame:
		return c.processSettings(f)
	case *http2.WindowUpdateFrame:
		return c.processWindowUpdate(f)
	case *http2.PingFrame:
		return c.processPing(f)
	case *http2.RSTStreamFrame:
		return c.processRSTStream(f)
	case *http2.PriorityFrame:
		return c.processPriority(f)
	case *http2.GoAwayFrame:
		c.countGoAwayReceived()
		c.h.OnGoAway(f.ErrCode, f.LastStreamID)
		return nil
	case *http2.PushPromiseFrame:
		return connErr(ErrCodeProtocol, "PUSH_PROMISE from a client")
	case *http2.ContinuationFrame:
		return connErr(ErrCodeProtocol, "unexpected CONTINUATION")
	}
	return c.chargeControl() // unknown frame types are ignored (RFC 9113 5.5)
}

// isIdle reports whether stream id was never opened: we never open (even) streams,
// and client streams above the highest seen are idle.
func (c *Conn) isIdle(id uint32) bool { return id%2 == 0 || id > c.maxClient }

func (c *Conn) processSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		if c.unacked == 0 {
			return connErr(ErrCodeProtocol, "unexpected SETTINGS ACK")
		}
		c.unacked--
		return nil
	}
	if err := c.chargeControl(); err != nil {
		return err
	}
	if f.NumSettings() > 100 {
		return connErr(ErrCodeProtocol, "too many settings")
	}
	if err := f.ForeachSetting(c.applySetting); err != nil {
		return err
	}
	c.fr.WriteSettingsAck()
	return nil
}

func (c *Conn) applySetting(s http2.Setting) error {
	if err := s.Valid(); err != nil {
		return connErr(ErrCode(err.(http2.ConnectionError)), "invalid setting "+s.ID.String())
	}
	switch s.ID {
	case http2.SettingHeaderTableSize:
		c.enc.SetMaxDynamicTableSize(s.Val)
	case http2.SettingInitialWindowSize:
		return c.setInitialWindow(int64(s.Val))
	case http2.SettingMaxFrameSize:
		c.peerMaxFrame = s.Val
	}
	return nil
}

// setInitialWindow applies SETTINGS_INITIAL_WINDOW_SIZE to every stream's send window
// (RFC 9113 6.9.2).
func (c *Conn) setInitialWindow(v int64) error {
	delta := v - c.peerInitial
	c.peerInitial = v
	for _, st := range c.streams {
		st.sendWin += delta
		if st.sendWin > maxWindow {
			return connErr(ErrCodeFlowControl, "stream window overflow")
		}
	}
	if delta > 0 {
		c.h.OnSendWindow(0)
	}
	return nil
}

func (c *Conn) processPing(f *http2.PingFrame) error {
	if f.IsAck() {
		return nil
	}
	if err := c.chargeControl(); err != nil {
		return err
	}
	c.fr.WritePing(true, f.Data)
	return nil
}

func (c *Conn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		c.sendConn += inc
		if c.sendConn > maxWindow {
			return connErr(ErrCodeFlowControl, "connection window overflow")
		}
		c.h.OnSendWindow(0)
		return nil
	}
	st := c.streams[f.StreamID]
	if st == nil {
		if c.isIdle(f.StreamID) {
			return connErr(ErrCodeProtocol, "WINDOW_UPDATE on idle stream")
		}
		return nil
	}
	if st.state == stateClosed {
		return nil
	}
	st.sendWin += inc
	if st.sendWin > maxWindow {
		return c.streamError(st.id, ErrCodeFlowControl)
	}
	c.h.OnSendWindow(st.id)
	return nil
}

func (c *Conn) processRSTStream(f *http2.RSTStreamFrame) error {
	if c.isIdle(f.StreamID) {
		return connErr(ErrCodeProtocol, "RST_STREAM on idle stream")
	}
	st := c.streams[f.StreamID]
	if st == nil || st.state == stateClosed {
		return c.chargeControl()
	}
	st.transition(stateClosed)
	c.countResetReceived()
	c.h.OnReset(st.id, f.ErrCode)
	c.maybeRemove(st)
	return c.chargeReset() // Rapid Reset: a cancelled stream costs budget
}

func (c *Conn) processPriority(f *http2.PriorityFrame) error {
	if err := c.chargeControl(); err != nil {
		return err
	}
	if f.StreamDep == f.StreamID {
		return c.streamError(f.StreamID, ErrCodeProtocol)
	}
	return nil
}

func (c *Conn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return connErr(ErrCodeProtocol, "HEADERS on an even stream id")
	}
	if st := c.streams[id]; st != nil {
		return c.processTrailers(st, f)
	}
	if id <= c.maxClient {
		if c.recentlyReset(id) {
			return nil // frames in flight after our RST_STREAM are ignored
		}
		return connErr(ErrCodeProtocol, "HEADERS on a closed or skipped stream id")
	}
	if c.goAway {
		return nil // not processed: the client retries on a new connection
	}
	c.maxClient = id
	return c.openStream(f)
}

func (c *Conn) openStream(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if f.HasPriority() && f.Priority.StreamDep == id {
		return c.streamError(id, ErrCodeProtocol)
	}
	if f.Truncated {
		return c.refuseTooLarge(id, f.StreamEnded())
	}
	req, reason := parseRequest(f, !c.cfg.DisableExtendedConnect)
	if reason != "" {
		return c.streamError(id, ErrCodeProtocol)
	}
	if uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams {
		return c.streamError(id, ErrCodeRefusedStream)
	}
	st := &stream{
		id:          id,
		sendWin:     c.peerInitial,
		recvWin:     int64(c.cfg.StreamWindow),
		declaredLen: req.ContentLength,
	}
	if req.EndStream {
		st.transition(stateHalfClosedRemote)
	} else {
		st.transition(stateOpen)
	}
	c.streams[id] = st
	c.h.OnRequest(id, req)
	return nil
}

// refuseTooLarge answers a request whose header list exceeds MaxHeaderListSize (an HPACK
// bomb or just a big request) with 431, and stops its body.
func (c *Conn) refuseTooLarge(id uint32, endStream bool) error {
	c.writeStatusOnly(id, 431)
	c.countHeadersTooLarge()
	if !endStream {
		c.writeRST(id, ErrCodeNo)
	}
	c.rememberReset(id)
	return c.chargeReset()
}

func (c *Conn) processTrailers(st *stream, f *http2.MetaHeadersFrame) error {
	if !st.remoteOpen() {
		if st.localReset {
			return nil // frames in flight after our RST_STREAM are ignored
		}
		return c.streamError(st.id, ErrCodeStreamClosed)
	}
	if f.Truncated || checkTrailers(f) != "" {
		return c.streamError(st.id, ErrCodeProtocol)
	}
	if st.declaredLen >= 0 && st.receivedLen != st.declaredLen {
		return c.streamError(st.id, ErrCodeProtocol)
	}
	st.endRemote()
	c.h.OnData(st.id, nil, true)
	c.maybeRemove(st)
	return nil
}

func (c *Conn) processData(f *http2.DataFrame) error {
	st := c.streams[f.StreamID]
	if st == nil || !st.remoteOpen() {
		return c.dataOnClosed(f, st)
	}
	size := int64(f.Length)
	if size > c.recvConn {
		return connErr(ErrCodeFlowControl, "connection window exceeded")
	}
	c.recvConn -= size
	if size > st.recvWin {
		c.creditConn(size)
		return c.streamError(st.id, ErrCodeFlowControl)
	}
	st.recvWin -= size
	data := f.Data()
	if pad := size - int64(len(data)); pad > 0 {
		c.creditConn(pad) // padding is never consumed by the application
		c.creditStream(st, pad)
	}
	if len(data) == 0 && !f.StreamEnded() {
		if err := c.chargeControl(); err != nil { // empty-frame flood
			return err
		}
	}
	return c.deliver(st, data, f.StreamEnded())
}

// deliver checks the body against content-length and hands it to the host.
func (c *Conn) deliver(st *stream, data []byte, end bool) error {
	st.receivedLen += int64(len(data))
	if st.declaredLen >= 0 && (st.receivedLen > st.declaredLen || end && st.receivedLen != st.declaredLen) {
		c.creditConn(int64(len(data)))
		return c.streamError(st.id, ErrCodeProtocol)
	}
	st.unconsumed += int64(len(data))
	if end {
		st.endRemote()
	}
	c.h.OnData(st.id, data, end)
	if end {
		c.maybeRemove(st)
	}
	return nil
}

// dataOnClosed handles DATA for a stream that cannot receive: the connection window is
// still charged (and granted back at once); frames after our RST_STREAM are ignored.
func (c *Conn) dataOnClosed(f *http2.DataFrame, st *stream) error {
	if st == nil && c.isIdle(f.StreamID) {
		return connErr(ErrCodeProtocol, "DATA on idle stream")
	}
	size := int64(f.Length)
	if size > c.recvConn {
		return connErr(ErrCodeFlowControl, "connection window exceeded")
	}
	c.recvConn -= size
	c.creditConn(size)
	if st != nil && st.localReset || st == nil && c.recentlyReset(f.StreamID) {
		if len(f.Data()) == 0 && !f.StreamEnded() {
			return c.chargeControl() // empty-frame flood on a stream we reset
		}
		return nil
	}
	return c.streamError(f.StreamID, ErrCodeStreamClosed)
}

// streamError resets stream id with code because of the peer (RST_STREAM, OnReset for
// a stream the host knows) and charges the reset budget (MadeYouReset).
func (c *Conn) streamError(id uint32, code ErrCode) error {
	c.writeRST(id, code)
	if st := c.streams[id]; st != nil {
		if st.state != stateClosed {
			st.transition(stateClosed)
			st.localReset = true
			c.h.OnReset(id, code)
		}
		c.maybeRemove(st)
	} else {
		c.rememberReset(id)
	}
	return c.chargeReset()
}

// maybeRemove forgets a stream that is closed and released, granting back the body
// bytes the application never consumed.
func (c *Conn) maybeRemove(st *stream) {
	if st.state != stateClosed || !st.released {
		return
	}
	delete(c.streams, st.id)
	if st.localReset {
		c.rememberReset(st.id)
	}
	if st.unconsumed > 0 {
		c.creditConn(st.unconsumed)
		st.unconsumed = 0
	}
}

func (c *Conn) rememberReset(id uint32) {
	c.recentResets[c.recentResetAt] = id
	c.recentResetAt = (c.recentResetAt + 1) % len(c.recentResets)
}

func (c *Conn) recentlyReset(id uint32) bool {
	for _, r := range c.recentResets {
		if r == id {
			return true
		}
	}
	return false
}

// chargeReset spends one unit of the reset budget (CVE-2023-44487 Rapid Reset and
// MadeYouReset); when it is gone the connection ends with ENHANCE_YOUR_CALM.
func (c *Conn) chargeReset() error {
	c.resets--
	if c.resets < 0 {
		return connErr(ErrCodeEnhanceYourCalm, "too many stream resets")
	}
	return nil
}

// chargeControl spends one unit of the control-frame budget of the current window
// (PING, SETTINGS, PRIORITY, unknown frames, and the empty-frame floods of
// CVE-2019-9518: DATA without END_STREAM and header-block fragments that carry no
// bytes).
func (c *Conn) chargeControl() error {
	if c.now.Sub(c.ctrlStart) >= c.cfg.ControlWindow || c.now.Before(c.ctrlStart) {
		c.ctrlStart = c.now
		c.ctrlCount = 0
	}
	c.ctrlCount++
	if c.ctrlCount > c.cfg.MaxControlFrames {
		return connErr(ErrCodeEnhanceYourCalm, "control frame flood")
	}
	return nil
}
