// Package redis is the Redis backend of package channels: a channel layer shared by
// many asgo instances through one Redis server (github.com/redis/rueidis as the
// client). It owns the instance's two connections to Redis (commands, and a dedicated
// pub/sub connection), the outbound queue, the reconnection, and the membership
// records.
//
// How it uses Redis:
//
//   - Each group is a pub/sub channel, PREFIX+DB+":g:"+group. An instance subscribes
//     once per group that has a local member (never per connection) and unsubscribes
//     when the last one leaves. A GroupSend is delivered to the sender's local members
//     at once and published once; every other instance receives it once, makes one
//     channels.Delivery of it and gives it to all its local members, so the
//     WebSocket frame is encoded once per instance (and compression setting).
//   - Each instance has its own pub/sub channel, PREFIX+DB+":i:"+id, for Send to one of
//     its channels (channel names are id+"!"+n).
//   - Memberships are in a sorted set per group, PREFIX+"m:"+group, scored by the time
//     they expire (Config.Expiry after their last refresh). Each instance refreshes
//     its own every Expiry/3, so those of an instance that died expire within Expiry;
//     GroupMembers reads the unexpired ones. Clocks of the instances are assumed to
//     agree within a small part of Expiry.
//
// Failure behaviour: New fails when Redis cannot be reached. When Redis is lost later,
// local delivery goes on; GroupSend and Send to other instances return
// channels.ErrUnavailable (counted in Stats, logged at most every 5 s); a single
// goroutine retries with exponential backoff (100 ms to 5 s, jittered) and, once
// connected, waits a random part of Config.ResubscribeJitter before subscribing again,
// so that a restarted Redis is not hit by every instance at once. Nothing is queued
// while Redis is down, so goroutines and memory do not grow.
package redis
