package wseclient

// On registers h for messages of type typ ("" for frames that are not WSE
// messages). Handlers of a type run in registration order, before the
// OnAny handlers. Handlers registered after Dial miss the messages
// dispatched before; use Options.Handlers for those.
func (c *Client) On(typ string, h Handler) {
	if h == nil {
		return
	}
	c.hmu.Lock()
	hs := c.handlers[typ]
	c.handlers[typ] = append(hs[:len(hs):len(hs)], h)
	c.hmu.Unlock()
}

// OnAny registers h for every message, after the handlers of its type.
func (c *Client) OnAny(h Handler) {
	if h == nil {
		return
	}
	c.hmu.Lock()
	c.anyHandlers = append(c.anyHandlers[:len(c.anyHandlers):len(c.anyHandlers)], h)
	c.hmu.Unlock()
}

// OnEvent registers h for every event, after Options.OnEvent.
func (c *Client) OnEvent(h func(Event)) {
	if h == nil {
		return
	}
	c.hmu.Lock()
	c.eventHandlers = append(c.eventHandlers[:len(c.eventHandlers):len(c.eventHandlers)], h)
	c.hmu.Unlock()
}

// Messages returns the channel that receives every message after its
// handlers ran, or nil when Options.MessageBuffer is 0. The application must
// keep reading it: a full channel holds up the dispatcher. It is closed when
// the client stops.
func (c *Client) Messages() <-chan Message { return c.msgs }

// Events returns the channel that receives every event after its handlers
// ran, or nil when Options.EventBuffer is 0. Like Messages, it must be read.
// It is closed when the client stops.
func (c *Client) Events() <-chan Event { return c.events }

// dispatchLoop runs the handlers of every queued item in order until the
// queue is closed. After Close it drops what is left.
func (c *Client) dispatchLoop() {
	defer close(c.done)
	if c.msgs != nil {
		defer close(c.msgs)
	}
	if c.events != nil {
		defer close(c.events)
	}
	for it := range c.queue {
		switch {
		case c.ctx.Err() != nil:
			// Closed by the application: nothing more is delivered.
		case it.ev != nil:
			c.deliverEvent(*it.ev)
		default:
			c.deliverMessage(it.msg)
		}
	}
}

// deliverMessage runs the handlers of m and sends it to Messages.
func (c *Client) deliverMessage(m Message) {
	c.hmu.RLock()
	hs, all := c.handlers[m.Type], c.anyHandlers
	c.hmu.RUnlock()
	for _, h := range hs {
		h(m)
	}
	for _, h := range all {
		h(m)
	}
	if c.msgs != nil {
		select {
		case c.msgs <- m:
		case <-c.ctx.Done():
		}
	}
}

// deliverEvent runs the event handlers and sends ev to Events.
func (c *Client) deliverEvent(ev Event) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(ev)
	}
	c.hmu.RLock()
	hs := c.eventHandlers
	c.hmu.RUnlock()
	for _, h := range hs {
		h(ev)
	}
	if c.events != nil {
		select {
		case c.events <- ev:
		case <-c.ctx.Done():
		}
	}
}
