package redis

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// run owns the pub/sub connection: it connects, subscribes, keeps the subscriptions
// and memberships in step with the hub, refreshes the memberships, and reconnects
// with backoff when the connection is lost. One goroutine for the layer's life.
func (l *Layer) run() {
	defer l.wg.Done()
	backoff := minBackoff
	ready := l.ready // told once: the first session's start
	for {
		start := time.Now()
		err := l.session(ready == nil, func() {
			if ready != nil {
				ready <- nil
				ready = nil
			}
		})
		if ready != nil {
			ready <- err
			return
		}
		if l.closed.Load() {
			return
		}
		if l.up.Swap(false) {
			l.cfg.Logger.Warn("channel layer: lost Redis; local delivery goes on, reconnecting", "url", l.cfg.URL, "err", err)
		}
		if time.Since(start) > maxBackoff {
			backoff = minBackoff // the connection had been up: start over
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jittered
		backoff = min(2*backoff, maxBackoff)
		select {
		case <-time.After(wait):
		case <-l.done:
			return
		}
	}
}

// session runs one pub/sub connection until it fails or the layer closes.
// up is called once it is connected and subscribed.
func (l *Layer) session(reconnect bool, up func()) error {
	dc, cancel := l.client.Dedicate()
	defer cancel()
	lost := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: l.onMessage})
	ctx, stop := context.WithTimeout(context.Background(), l.cfg.DialTimeout)
	defer stop()
	if err := dc.Do(ctx, dc.B().Subscribe().Channel(l.self).Build()).Error(); err != nil {
		return err
	}
	if reconnect && l.cfg.ResubscribeJitter > 0 {
		// Spread the instances' resubscriptions over a restarted Redis.
		select {
		case <-time.After(rand.N(l.cfg.ResubscribeJitter)):
		case err := <-lost:
			return err
		case <-l.done:
			return nil
		}
	}
	subscribed := make(map[string]bool)
	// Everything local is (re)subscribed and (re)recorded; pending changes are
	// covered by that.
	l.mu.Lock()
	clear(l.dirty)
	clear(l.adds)
	clear(l.rems)
	l.up.Store(true)
	l.mu.Unlock()
	if err := l.subscribe(dc, l.hub.Groups(), subscribed); err != nil {
		return err
	}
	if err := l.refresh(); err != nil {
		return err
	}
	if reconnect {
		l.reconnects.Add(1)
		l.cfg.Logger.Info("channel layer: reconnected to Redis", "url", l.cfg.URL)
	}
	up()
	tick := time.NewTicker(l.cfg.Expiry / 3)
	defer tick.Stop()
	for {
		select {
		case err := <-lost:
			return err
		case <-l.wake:
			if err := l.sync(dc, subscribed); err != nil {
				return err
			}
		case <-tick.C:
			if err := l.refresh(); err != nil {
				return err
			}
		case <-l.done:
			l.leaveAll()
			return errClosing
		}
	}
}

// subscribe subscribes dc to groups (their pub/sub channels) in batches and marks
// them in subscribed.
func (l *Layer) subscribe(dc rueidis.DedicatedClient, groups []string, subscribed map[string]bool) error {
	return l.subCmd(dc, groups, subscribed, true)
}

func (l *Layer) subCmd(dc rueidis.DedicatedClient, groups []string, subscribed map[string]bool, sub bool) error {
	const batch = 500
	for len(groups) > 0 {
		n := min(len(groups), batch)
		chans := make([]string, n)
		for i, g := range groups[:n] {
			chans[i] = l.chans + "g:" + g
		}
		ctx, stop := context.WithTimeout(context.Background(), l.cfg.DialTimeout)
		var err error
		if sub {
			err = dc.Do(ctx, dc.B().Subscribe().Channel(chans...).Build()).Error()
		} else {
			err = dc.Do(ctx, dc.B().Unsubscribe().Channel(chans...).Build()).Error()
		}
		stop()
		if err != nil {
			return err
		}
		for _, g := range groups[:n] {
			subscribed[g] = sub
		}
		groups = groups[n:]
	}
	return nil
}

// sync applies the membership changes noted since the last call: subscriptions
// first, so that a membership visible in Redis is one whose instance receives the
// group.
func (l *Layer) sync(dc rueidis.DedicatedClient, subscribed map[string]bool) error {
	l.mu.Lock()
	dirty, adds, rems := l.dirty, l.adds, l.rems
	l.dirty, l.adds, l.rems = make(map[string]struct{}), make(map[string]map[string]struct{}), make(map[string]map[string]struct{})
	l.mu.Unlock()
	var sub, unsub []string
	for g := range dirty {
		switch has := l.hub.HasGroup(g); {
		case has && !subscribed[g]:
			sub = append(sub, g)
		case !has && subscribed[g]:
			unsub = append(unsub, g)
		}
	}
	if err := l.subCmd(dc, sub, subscribed, true); err != nil {
		return err
	}
	if err := l.subCmd(dc, unsub, subscribed, false); err != nil {
		return err
	}
	for _, g := range unsub {
		delete(subscribed, g)
	}
	deadline := l.deadline()
	var cmds rueidis.Commands
	for g, chs := range adds {
		cmds = l.appendAdds(cmds, g, keys(chs), deadline)
	}
	for g, chs := range rems {
		if len(chs) > 0 {
			cmds = append(cmds, l.client.B().Zrem().Key(l.memberKey(g)).Member(keys(chs)...).Build())
		}
	}
	return l.do(cmds)
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// deadline is the expiry score of a membership recorded now.
func (l *Layer) deadline() float64 {
	return float64(time.Now().Add(l.cfg.Expiry).UnixMilli())
}

// appendAdds appends the ZADDs recording chans in group until deadline, and keeps the
// key itself from outliving its last instance.
func (l *Layer) appendAdds(cmds rueidis.Commands, group string, chans []string, deadline float64) rueidis.Commands {
	const batch = 500
	key := l.memberKey(group)
	for len(chans) > 0 {
		n := min(len(chans), batch)
		z := l.client.B().Zadd().Key(key).ScoreMember()
		for _, ch := range chans[:n] {
			z = z.ScoreMember(deadline, ch)
		}
		cmds = append(cmds, z.Build())
		chans = chans[n:]
	}
	return append(cmds, l.client.B().Pexpire().Key(key).Milliseconds(2*l.cfg.Expiry.Milliseconds()).Build())
}

// refresh records every local membership again with a new deadline and drops the
// expired ones of the groups it touches.
func (l *Layer) refresh() error {
	deadline := l.deadline()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	var cmds rueidis.Commands
	for _, g := range l.hub.Groups() {
		cmds = l.appendAdds(cmds, g, l.hub.Members(g), deadline)
		cmds = append(cmds, l.client.B().Zremrangebyscore().Key(l.memberKey(g)).Min("-inf").Max(now).Build())
	}
	return l.do(cmds)
}

// leaveAll removes this instance's memberships, on Close.
func (l *Layer) leaveAll() {
	if l.abandon.Load() {
		return
	}
	var cmds rueidis.Commands
	for _, g := range l.hub.Groups() {
		if m := l.hub.Members(g); len(m) > 0 {
			cmds = append(cmds, l.client.B().Zrem().Key(l.memberKey(g)).Member(m...).Build())
		}
	}
	_ = l.do(cmds)
}

// do runs cmds as one pipeline within DialTimeout and returns the first error.
func (l *Layer) do(cmds rueidis.Commands) error {
	if len(cmds) == 0 {
		return nil
	}
	ctx, stop := context.WithTimeout(context.Background(), l.cfg.DialTimeout)
	defer stop()
	for _, r := range l.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}
