// Package channels is asgo's channel layer: named groups of WebSocket members that a
// message reaches wherever the members are connected, in one process or across many
// asgo instances. It owns the contract (Layer, Receiver, Delivery, the errors and the
// name rules), the process-wide default layer (Default, SetDefault) and the in-memory
// backend (Memory), and imports only the standard library and protocol/asgi. The Redis
// backend, for many instances, is package channels/redis, so that importing the
// contract does not pull a Redis client into an app.
//
// # Model
//
// A member is a local Receiver registered with NewChannel, which returns its channel
// name, unique in the cluster. GroupAdd and GroupDiscard put a channel in a named
// group and take it out; CloseChannel takes it out of all of them and stops its
// delivery. GroupSend sends a message to every channel of a group, Send to one
// channel, on any instance. A Receiver is called with each message for its channel
// (Deliver) and must not block: apps in WebSocket event mode hand the message to
// their connection there (asgi.SendPrepared), with no goroutine per member.
//
// # Semantics
//
//   - At most once. A message reaches each member of the group at most once; it may
//     not reach it at all (a member that joins while the message travels, an instance
//     cut from the broker, a full queue, a slow member that is closed). Nothing is
//     stored or retried: a layer is for live messages, not a queue of work.
//   - Ordered per sender and group: the messages one goroutine sends to a group (or
//     to a channel) reach each member in the order they were sent. Messages of
//     different senders may interleave differently at different members.
//   - One encoding per instance. A group message is delivered to every local member
//     as the same *Delivery, whose Prepared message is encoded into a WebSocket frame
//     once per instance and compression setting (asgi.PreparedMessage), however many
//     members share it.
//   - Bounded queues. The layer keeps no queue per member: Deliver hands the message
//     on at once. The member's own bound decides what happens when it cannot take it;
//     the demo chat closes such a slow member with 1008 (its connection has more
//     unsent output than the server's high-water mark, or its queue of 64 messages or
//     4 MiB is full), so a slow member never slows the room. A cross-instance backend
//     has one bounded outbound queue per instance; a send that finds it full fails
//     with ErrQueueFull (the local members got the message).
//   - Broker failures do not stop local delivery: GroupSend and Send deliver to the
//     local members first and then report ErrUnavailable for the other instances.
//   - Membership expiry. A cross-instance backend stores each membership with an
//     expiry that its instance refreshes while it runs (channels_redis calls it the
//     group expiry); the memberships of an instance that died without leaving expire
//     and vanish from GroupMembers. Delivery never waits for them: a dead instance
//     simply receives nothing.
//
// Names: group names are 1 to 100 bytes of ASCII letters, digits, '-', '_' and '.'
// (Django Channels' rule); channel names, made by NewChannel, add '!'.
package channels
