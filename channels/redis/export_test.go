package redis

// Abandon stops l as a killed instance would stop: its memberships stay in Redis.
func (l *Layer) Abandon() {
	l.abandon.Store(true)
	l.Close()
}
