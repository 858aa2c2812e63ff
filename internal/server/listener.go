package server

import (
	"net"
	"sync"
	"time"
)

// limitListener caps concurrent connections: Accept blocks while the cap is
// reached, so a flood of connections queues in the kernel instead of
// exhausting the process.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	idle time.Duration
}

func newLimitListener(l net.Listener, max int, idle time.Duration) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, max), idle: idle}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &idleConn{Conn: c, release: func() { <-l.sem }, idle: l.idle}, nil
}

// idleConn gives every read and write its own deadline, so a client that
// stalls mid-body (or mid-download) is cut off after idle time, while a
// slow but steady transfer of any size continues. Deadlines the HTTP
// server sets itself (header and idle timeouts) still apply when earlier.
type idleConn struct {
	net.Conn
	release func()
	once    sync.Once
	idle    time.Duration

	mu            sync.Mutex
	readDeadline  time.Time
	writeDeadline time.Time
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	d := time.Now().Add(c.idle)
	if !c.readDeadline.IsZero() && c.readDeadline.Before(d) {
		d = c.readDeadline
	}
	c.mu.Unlock()
	c.Conn.SetReadDeadline(d)
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	d := time.Now().Add(c.idle)
	if !c.writeDeadline.IsZero() && c.writeDeadline.Before(d) {
		d = c.writeDeadline
	}
	c.mu.Unlock()
	c.Conn.SetWriteDeadline(d)
	return c.Conn.Write(p)
}

func (c *idleConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline, c.writeDeadline = t, t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *idleConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *idleConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
