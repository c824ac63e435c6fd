package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/asgo-dev/asgo/channels"
)

// Defaults applied to zero Config fields.
const (
	DefaultPrefix            = "asgo:"
	DefaultExpiry            = 60 * time.Second
	DefaultQueueSize         = 8192
	DefaultDialTimeout       = 5 * time.Second
	DefaultResubscribeJitter = time.Second
)

// minExpiry is the shortest Config.Expiry used.
const minExpiry = 300 * time.Millisecond

// Backoff bounds of the reconnection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Config configures New. The zero value but URL means the defaults.
type Config struct {
	// URL is the Redis server, redis://[[USER]:PASSWORD@]HOST:PORT[/DB]. Required.
	URL string
	// Name is the instance name (Layer.Name). If empty, channels.DefaultName().
	Name string
	// Prefix starts every Redis key and pub/sub channel the layer uses, so that
	// several clusters can share a server. If empty, "asgo:".
	Prefix string
	// MaxMessageSize is the largest message GroupSend and Send take. If zero, 1 MiB.
	MaxMessageSize int
	// Expiry is how long a membership outlives its instance's last refresh; each
	// instance refreshes its memberships every Expiry/3. If zero, 60 s; at least 300 ms.
	Expiry time.Duration
	// QueueSize bounds the messages waiting to be published; beyond it sends fail
	// with channels.ErrQueueFull. If zero, 8192.
	QueueSize int
	// DialTimeout bounds each connection attempt. If zero, 5 s.
	DialTimeout time.Duration
	// ResubscribeJitter is the longest random wait after a reconnection before the
	// groups are subscribed again. If zero, 1 s; negative: no wait.
	ResubscribeJitter time.Duration
	// Logger receives the connection losses and the rate-limited send failures. If
	// nil, slog.Default().
	Logger *slog.Logger
}

func (c Config) normalize() Config {
	if c.Name == "" {
		c.Name = channels.DefaultName()
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = channels.DefaultMaxMessageSize
	}
	if c.Expiry <= 0 {
		c.Expiry = DefaultExpiry
	}
	c.Expiry = max(c.Expiry, minExpiry) // refreshed every Expiry/3: keep that sane
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ResubscribeJitter == 0 {
		c.ResubscribeJitter = DefaultResubscribeJitter
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Layer is a channels.Layer on Redis. Its methods are safe for concurrent use and,
// but GroupMembers, never wait for Redis (see channels.Layer). Make it with New.
type Layer struct {
	cfg    Config
	id     string // instance id, unique in the cluster
	hub    *channels.Hub
	client rueidis.Client
	chans  string // pub/sub channel prefix: Prefix + DB + ":"
	self   string // this instance's pub/sub channel

	up      atomic.Bool // connected and subscribed: cross-instance sends are queued
	closed  atomic.Bool
	abandon atomic.Bool   // tests: Close leaves the memberships, as a crash would
	out     chan outMsg   // the bounded outbound queue
	wake    chan struct{} // tells run that membership changed
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	ready   chan error // run's first session result

	mu sync.Mutex
	// Guarded by mu; recorded only while up (a reconnection resyncs everything):
	dirty map[string]struct{}            // groups whose subscription may have to change
	adds  map[string]map[string]struct{} // memberships to record, per group
	rems  map[string]map[string]struct{} // memberships to remove, per group

	sent, received, unavailable, queueFull, sendFailures, reconnects atomic.Uint64
	lastLog                                                          atomic.Int64 // unix ns of the last rate-limited log line
}

type outMsg struct {
	channel string
	payload []byte
}

// New connects to the Redis server of cfg.URL and returns the layer once its instance
// channel is subscribed. It fails with a clear error when the URL is bad or Redis
// cannot be reached within DialTimeout (or ctx).
func New(ctx context.Context, cfg Config) (*Layer, error) {
	cfg = cfg.normalize()
	opt, err := rueidis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("channels/redis: bad URL %q: %w", cfg.URL, err)
	}
	if !strings.HasPrefix(cfg.URL, "redis://") {
		return nil, fmt.Errorf("channels/redis: bad URL %q: want redis://HOST:PORT/DB", cfg.URL)
	}
	opt.DisableCache = true
	opt.Dialer.Timeout = cfg.DialTimeout
	opt.ConnWriteTimeout = cfg.DialTimeout
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("channels/redis: cannot reach %s: %w", cfg.URL, err)
	}
	id := "i" + channels.RandomID()[:12]
	chans := cfg.Prefix + strconv.Itoa(opt.SelectDB) + ":"
	l := &Layer{cfg: cfg, id: id, hub: channels.NewHub(id), client: client, chans: chans, self: chans + "i:" + id,
		out: make(chan outMsg, cfg.QueueSize), wake: make(chan struct{}, 1), done: make(chan struct{}), ready: make(chan error, 1),
		dirty: make(map[string]struct{}), adds: make(map[string]map[string]struct{}), rems: make(map[string]map[string]struct{})}
	l.wg.Add(2)
	go l.run()
	go l.publish()
	select {
	case err = <-l.ready:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("channels/redis: cannot subscribe on %s: %w", cfg.URL, err)
	}
	return l, nil
}

// Name returns the instance name.
func (l *Layer) Name() string { return l.cfg.Name }

// NewChannel registers r as a local member.
func (l *Layer) NewChannel(r channels.Receiver) (string, error) {
	if l.closed.Load() {
		return "", channels.ErrClosed
	}
	return l.hub.NewChannel(r)
}

// CloseChannel takes channel out of its groups.
func (l *Layer) CloseChannel(channel string) {
	left, emptied := l.hub.CloseChannel(channel)
	if len(left) == 0 {
		return
	}
	l.note(func() {
		for _, g := range left {
			l.pendLocked(l.rems, l.adds, g, channel)
		}
		for _, g := range emptied {
			l.dirty[g] = struct{}{}
		}
	})
}

// GroupAdd adds channel to group locally at once and in Redis in the background.
func (l *Layer) GroupAdd(_ context.Context, group, channel string) error {
	if l.closed.Load() {
		return channels.ErrClosed
	}
	first, err := l.hub.Add(group, channel)
	if err != nil {
		return err
	}
	l.note(func() {
		l.pendLocked(l.adds, l.rems, group, channel)
		if first {
			l.dirty[group] = struct{}{}
		}
	})
	return nil
}

// GroupDiscard takes channel out of group.
func (l *Layer) GroupDiscard(_ context.Context, group, channel string) error {
	last, found, err := l.hub.Discard(group, channel)
	if err != nil || !found {
		return err
	}
	l.note(func() {
		l.pendLocked(l.rems, l.adds, group, channel)
		if last {
			l.dirty[group] = struct{}{}
		}
	})
	return nil
}

// note records a membership change for run, while up (a reconnection resyncs), and
// wakes it.
func (l *Layer) note(f func()) {
	if !l.up.Load() {
		return
	}
	l.mu.Lock()
	f()
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pendLocked records channel in to[group] and drops it from undo[group].
func (l *Layer) pendLocked(to, undo map[string]map[string]struct{}, group, channel string) {
	delete(undo[group], channel)
	s := to[group]
	if s == nil {
		s = make(map[string]struct{})
		to[group] = s
	}
	s[channel] = struct{}{}
}

// GroupSend delivers msg to the local members, then queues it for the others.
func (l *Layer) GroupSend(_ context.Context, group string, msg channels.Message) error {
	if err := l.check(msg); err != nil {
		return err
	}
	if err := channels.CheckGroup(group); err != nil {
		return err
	}
	l.hub.DeliverGroup(channels.NewDelivery(group, msg.Data, msg.Text))
	return l.enqueue(l.chans+"g:"+group, l.encode(msg, ""))
}

// Send delivers msg to channel: at once when it is local, else through its
// instance's pub/sub channel.
func (l *Layer) Send(_ context.Context, channel string, msg channels.Message) error {
	if err := l.check(msg); err != nil {
		return err
	}
	if err := channels.CheckChannel(channel); err != nil {
		return err
	}
	if l.hub.Owns(channel) {
		l.hub.DeliverChannel(channel, channels.NewDelivery("", msg.Data, msg.Text))
		return nil
	}
	inst, _, ok := strings.Cut(channel, "!")
	if !ok {
		return nil // no instance can own it
	}
	return l.enqueue(l.chans+"i:"+inst, l.encode(msg, channel))
}

func (l *Layer) check(msg channels.Message) error {
	if l.closed.Load() {
		return channels.ErrClosed
	}
	if len(msg.Data) > l.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", channels.ErrTooBig, len(msg.Data), l.cfg.MaxMessageSize)
	}
	return nil
}

// Wire format of a published message: flags (bit 0: text), the origin instance id
// and the target channel (Send only), each as a length byte and the bytes, then the
// data.
func (l *Layer) encode(msg channels.Message, target string) []byte {
	b := make([]byte, 0, 3+len(l.id)+len(target)+len(msg.Data))
	var flags byte
	if msg.Text {
		flags = 1
	}
	b = append(b, flags, byte(len(l.id)))
	b = append(b, l.id...)
	b = append(b, byte(len(target)))
	b = append(b, target...)
	return append(b, msg.Data...)
}

func decode(p []byte) (origin, target string, data []byte, text bool, ok bool) {
	if len(p) < 3 {
		return
	}
	text = p[0]&1 != 0
	n := int(p[1])
	if len(p) < 2+n+1 {
		return
	}
	origin = string(p[2 : 2+n])
	p = p[2+n:]
	m := int(p[0])
	if len(p) < 1+m {
		return
	}
	return origin, string(p[1 : 1+m]), p[1+m:], text, true
}

// enqueue queues a message for the other instances without blocking.
func (l *Layer) enqueue(channel string, payload []byte) error {
	if !l.up.Load() {
		n := l.unavailable.Add(1)
		l.logLimited("channel layer: Redis unavailable; message not sent to other instances", "unavailable", n)
		return channels.ErrUnavailable
	}
	select {
	case l.out <- outMsg{channel, payload}:
		return nil
	default:
		n := l.queueFull.Add(1)
		l.logLimited("channel layer: outbound queue full; message not sent to other instances", "queue_full", n)
		return channels.ErrQueueFull
	}
}

// logLimited logs at most one line every 5 s.
func (l *Layer) logLimited(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(5*time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.cfg.Logger.Warn(msg, args...)
}

// publish drains the outbound queue in pipelined batches, in order (one goroutine,
// one batch in flight), so the messages of one sender keep their order.
func (l *Layer) publish() {
	defer l.wg.Done()
	const maxBatch = 256
	cmds := make(rueidis.Commands, 0, maxBatch)
	ctx := context.Background()
	for {
		select {
		case m := <-l.out:
			cmds = append(cmds[:0], l.pubCmd(m))
		fill:
			for len(cmds) < maxBatch {
				select {
				case m := <-l.out:
					cmds = append(cmds, l.pubCmd(m))
				default:
					break fill
				}
			}
			for _, r := range l.client.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					n := l.sendFailures.Add(1)
					l.logLimited("channel layer: publish failed", "err", err, "failures", n)
				} else {
					l.sent.Add(1)
				}
			}
		case <-l.done:
			return
		}
	}
}

func (l *Layer) pubCmd(m outMsg) rueidis.Completed {
	return l.client.B().Publish().Channel(m.channel).Message(rueidis.BinaryString(m.payload)).Build()
}

// onMessage is called by rueidis for each pub/sub message, in order.
func (l *Layer) onMessage(m rueidis.PubSubMessage) {
	origin, target, data, text, ok := decode([]byte(m.Message))
	if !ok {
		return
	}
	if m.Channel == l.self {
		l.received.Add(1)
		l.hub.DeliverChannel(target, channels.NewDelivery("", data, text))
		return
	}
	if origin == l.id { // delivered locally when it was sent
		return
	}
	group, ok := strings.CutPrefix(m.Channel, l.chans+"g:")
	if !ok {
		return
	}
	l.received.Add(1)
	l.hub.DeliverGroup(channels.NewDelivery(group, data, text))
}

// GroupMembers returns the unexpired memberships of group, on every instance.
func (l *Layer) GroupMembers(ctx context.Context, group string) ([]string, error) {
	if err := channels.CheckGroup(group); err != nil {
		return nil, err
	}
	if l.closed.Load() {
		return nil, channels.ErrClosed
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	r := l.client.Do(ctx, l.client.B().Zrange().Key(l.memberKey(group)).Min("("+now).Max("+inf").Byscore().Build())
	members, err := r.AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("channels/redis: GroupMembers: %w", err)
	}
	return members, nil
}

func (l *Layer) memberKey(group string) string { return l.cfg.Prefix + "m:" + group }

// Stats returns the layer's counters.
func (l *Layer) Stats() channels.Stats {
	return channels.Stats{Sent: l.sent.Load(), Received: l.received.Load(), Unavailable: l.unavailable.Load(),
		QueueFull: l.queueFull.Load(), SendFailures: l.sendFailures.Load(), Reconnects: l.reconnects.Load()}
}

// Connected reports whether the layer is connected to Redis and subscribed.
func (l *Layer) Connected() bool { return l.up.Load() }

// Close stops the layer and removes this instance's memberships from Redis (best
// effort, within a second). It waits for its goroutines.
func (l *Layer) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.done)
	l.wg.Wait()
	l.client.Close()
	return nil
}

var errClosing = errors.New("closing")
