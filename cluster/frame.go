package cluster

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// frameType is the first byte of a frame header.
//
// WARNING: frame type numbers are part of the wire format between nodes of
// different versions. The list is APPEND-ONLY: never renumber, reuse or remove
// a value; give a new frame the next free number. A receiver counts and skips
// types it does not know.
type frameType uint8

const (
	frameHello        frameType = 1  // handshake: magic, version, caps, max frame, node id, advertise address
	framePing         frameType = 2  // heartbeat; payload echoed by PONG
	framePong         frameType = 3  // heartbeat answer
	frameShutdown     frameType = 4  // sender is stopping; the link closes after it
	frameDrain        frameType = 5  // sender takes no more messages: stop forwarding to it
	frameMsg          frameType = 6  // topic message: topic, payload
	frameSub          frameType = 7  // interest 0→1 for a list of topics
	frameUnsub        frameType = 8  // interest 1→0 for a list of topics
	frameResync       frameType = 9  // full interest set, chunked (flagMore)
	framePeerAnnounce frameType = 10 // one new member: node id, address
	framePeerList     frameType = 11 // known members: node id, address, repeated
	framePresence     frameType = 12 // one presence change
	framePresenceSync frameType = 13 // full presence state, chunked (flagMore)
	frameRetire       frameType = 14 // sender sends nothing more on this link; its replacement carries on
)

// Frame flags. Like frame types, their bit values are wire format: append-only.
const (
	// flagMore marks a RESYNC or PRESENCE_SYNC chunk that more chunks follow.
	flagMore uint8 = 1 << 0
	// flagReject marks a HELLO answer that refuses the link (self or duplicate).
	flagReject uint8 = 1 << 1
	// flagGroups marks a MSG whose payload opens with the queue groups the
	// receiver is to serve (u16 count, str16 × count), then the message.
	flagGroups uint8 = 1 << 2
)

// Capabilities announced in HELLO; a link uses the bitwise AND of both sides.
// Bit values are wire format: append-only.
const (
	// CapInterest: the node sends SUB/UNSUB/RESYNC and wants only the topics
	// it asked for. A peer without it receives every message.
	CapInterest uint32 = 1 << 0
	// CapPresence: the node sends and accepts PRESENCE and PRESENCE_SYNC.
	CapPresence uint32 = 1 << 1
	// CapGossip: the node sends and accepts PEER_ANNOUNCE and PEER_LIST.
	CapGossip uint32 = 1 << 2
	// CapRetire: the node ends a link replaced by a duplicate with RETIRE
	// after the frames already queued, and reads the old link up to the
	// peer's RETIRE, so that the replacement loses nothing in flight.
	CapRetire uint32 = 1 << 3
	// CapQueue: the node announces queue group members (QueueInterestKey)
	// and serves on each message only the groups the publishing node chose
	// for it (flagGroups); a MSG without the flag asks it to serve none.
	CapQueue uint32 = 1 << 4
	// localCaps is what this implementation supports.
	localCaps = CapInterest | CapPresence | CapGossip | CapRetire | CapQueue
)

const (
	// ProtocolVersion is the cluster protocol version this package speaks.
	ProtocolVersion = 1
	// minProtocolVersion is the oldest peer version accepted.
	minProtocolVersion = 1
	// helloMagic opens every HELLO payload.
	helloMagic = "WSEC"
	// lenSize is the size of the length prefix; headerSize the fixed header
	// after it: type u8, flags u8, topic length u16.
	lenSize    = 4
	headerSize = 4
	// frameOverhead is the size of an empty frame on the wire.
	frameOverhead = lenSize + headerSize
	// maxHelloFrame caps the first frame read from an unauthenticated peer.
	maxHelloFrame = 4 << 10
	// syncChunk is the target payload size of one RESYNC or PRESENCE_SYNC chunk.
	syncChunk = 256 << 10
	// maxListEntries caps the topics in one SUB/UNSUB/RESYNC frame and the
	// members in one PEER_LIST frame when decoding.
	maxListEntries = 1 << 20
	// maxMembersPerFrame caps the members one PEER_LIST frame carries when
	// sent: 200 members of at most 2+256+2+256 bytes fit the smallest frame cap.
	maxMembersPerFrame = 200
)

// frame is one decoded frame. topic and payload do not alias the input.
type frame struct {
	typ     frameType
	flags   uint8
	topic   string
	payload []byte
}

// appendFrame appends the wire form of one frame to dst: a 4-byte big-endian
// length of the rest, type, flags, topic length (u16 BE), topic, payload.
// The caller keeps len(topic) ≤ 65535.
func appendFrame(dst []byte, typ frameType, flags uint8, topic string, payload []byte) []byte {
	n := headerSize + len(topic) + len(payload)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, byte(typ), flags)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(topic)))
	dst = append(dst, topic...)
	return append(dst, payload...)
}

// encodeFrame returns a new buffer holding one frame.
func encodeFrame(typ frameType, flags uint8, topic string, payload []byte) []byte {
	return appendFrame(make([]byte, 0, frameOverhead+len(topic)+len(payload)), typ, flags, topic, payload)
}

// decodeFrame decodes the frame at the start of b, which must hold the whole
// frame, and returns it with the number of bytes it took. A length above
// maxSize (counted like MaxFrameSize: prefix included) fails with
// ErrFrameTooLarge; a short buffer with io.ErrUnexpectedEOF.
func decodeFrame(b []byte, maxSize int) (frame, int, error) {
	if len(b) < lenSize {
		return frame{}, 0, io.ErrUnexpectedEOF
	}
	n, err := checkLength(binary.BigEndian.Uint32(b), maxSize)
	if err != nil {
		return frame{}, 0, err
	}
	if len(b)-lenSize < n {
		return frame{}, 0, io.ErrUnexpectedEOF
	}
	body := make([]byte, n)
	copy(body, b[lenSize:lenSize+n])
	f, err := parseBody(body)
	return f, lenSize + n, err
}

// checkLength validates a length prefix and returns it as an int.
func checkLength(n uint32, maxSize int) (int, error) {
	if n < headerSize {
		return 0, fmt.Errorf("%w: length %d below header size", ErrBadFrame, n)
	}
	if uint64(n)+lenSize > uint64(maxSize) {
		return 0, fmt.Errorf("%w: %d bytes, cap %d", ErrFrameTooLarge, uint64(n)+lenSize, maxSize)
	}
	return int(n), nil
}

// readFrame reads one frame from r, rejecting lengths above maxSize before
// reading the body. The frame's payload is a fresh allocation owned by the
// caller. It returns the number of bytes consumed for byte accounting.
func readFrame(r *bufio.Reader, maxSize int) (frame, int, error) {
	hdr, err := r.Peek(lenSize)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, 0, err
	}
	n, err := checkLength(binary.BigEndian.Uint32(hdr), maxSize)
	if _, derr := r.Discard(lenSize); derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		return frame{}, lenSize, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, lenSize, err
	}
	f, err := parseBody(body)
	return f, lenSize + n, err
}

// parseBody splits the bytes after the length prefix into a frame. The
// payload aliases body.
func parseBody(body []byte) (frame, error) {
	if len(body) < headerSize {
		return frame{}, fmt.Errorf("%w: %d-byte body", ErrBadFrame, len(body))
	}
	tl := int(binary.BigEndian.Uint16(body[2:4]))
	if headerSize+tl > len(body) {
		return frame{}, fmt.Errorf("%w: topic length %d beyond frame", ErrBadFrame, tl)
	}
	return frame{
		typ:     frameType(body[0]),
		flags:   body[1],
		topic:   string(body[headerSize : headerSize+tl]),
		payload: body[headerSize+tl:],
	}, nil
}

// hello is the body of a HELLO frame.
type hello struct {
	version  uint16
	caps     uint32
	maxFrame uint32
	nodeID   string
	addr     string
}

// encodeHello returns a HELLO frame; flags may carry flagReject.
func encodeHello(h hello, flags uint8) []byte {
	p := make([]byte, 0, len(helloMagic)+2+4+4+2+len(h.nodeID)+2+len(h.addr))
	p = append(p, helloMagic...)
	p = binary.BigEndian.AppendUint16(p, h.version)
	p = binary.BigEndian.AppendUint32(p, h.caps)
	p = binary.BigEndian.AppendUint32(p, h.maxFrame)
	p = appendStr16(p, h.nodeID)
	p = appendStr16(p, h.addr)
	return encodeFrame(frameHello, flags, "", p)
}

// decodeHello parses a HELLO payload.
func decodeHello(p []byte) (hello, error) {
	var h hello
	if len(p) < len(helloMagic)+10 || string(p[:len(helloMagic)]) != helloMagic {
		return h, fmt.Errorf("%w: bad HELLO magic", ErrBadFrame)
	}
	p = p[len(helloMagic):]
	h.version = binary.BigEndian.Uint16(p)
	h.caps = binary.BigEndian.Uint32(p[2:])
	h.maxFrame = binary.BigEndian.Uint32(p[6:])
	p = p[10:]
	var err error
	if h.nodeID, p, err = readStr16(p); err != nil {
		return h, err
	}
	if h.addr, p, err = readStr16(p); err != nil {
		return h, err
	}
	switch {
	case len(p) != 0:
		return h, fmt.Errorf("%w: %d trailing HELLO bytes", ErrBadFrame, len(p))
	case h.nodeID == "" || len(h.nodeID) > MaxNodeIDLen:
		return h, fmt.Errorf("%w: node id length %d", ErrBadFrame, len(h.nodeID))
	case len(h.addr) > maxAddrLen:
		return h, fmt.Errorf("%w: address length %d", ErrBadFrame, len(h.addr))
	}
	return h, nil
}

// appendStr16 appends s with a u16 big-endian length; the caller keeps
// len(s) ≤ 65535.
func appendStr16(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// readStr16 reads a u16-length-prefixed string from the front of p.
func readStr16(p []byte) (string, []byte, error) {
	if len(p) < 2 {
		return "", nil, fmt.Errorf("%w: truncated string length", ErrBadFrame)
	}
	n := int(binary.BigEndian.Uint16(p))
	if len(p)-2 < n {
		return "", nil, fmt.Errorf("%w: string of %d bytes beyond frame", ErrBadFrame, n)
	}
	return string(p[2 : 2+n]), p[2+n:], nil
}

// encodeTopicList encodes topics as u16-length-prefixed strings.
func encodeTopicList(topics []string) []byte {
	size := 0
	for _, t := range topics {
		size += 2 + len(t)
	}
	p := make([]byte, 0, size)
	for _, t := range topics {
		p = appendStr16(p, t)
	}
	return p
}

// decodeTopicList decodes the payload of SUB, UNSUB and RESYNC.
func decodeTopicList(p []byte) ([]string, error) {
	var out []string
	for len(p) > 0 {
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: more than %d topics", ErrBadFrame, maxListEntries)
		}
		t, rest, err := readStr16(p)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		p = rest
	}
	return out, nil
}

// chunkTopics encodes topics into RESYNC payloads of at most
// min(syncChunk, maxPayload) bytes, never splitting a topic; topics longer
// than a u16 length are skipped. An empty set gives one empty chunk.
func chunkTopics(topics []string, maxPayload int) [][]byte {
	limit := min(syncChunk, maxPayload)
	var chunks [][]byte
	var cur []byte
	for _, t := range topics {
		if len(t) > math.MaxUint16 {
			continue
		}
		if len(cur) > 0 && len(cur)+2+len(t) > limit {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = appendStr16(cur, t)
	}
	return append(chunks, cur)
}

// member is one gossiped node: its id and the address it is dialed at.
type member struct {
	id, addr string
}

// encodeMembers encodes the payload of PEER_ANNOUNCE and PEER_LIST.
func encodeMembers(ms []member) []byte {
	var p []byte
	for _, m := range ms {
		p = appendStr16(p, m.id)
		p = appendStr16(p, m.addr)
	}
	return p
}

// decodeMembers decodes the payload of PEER_ANNOUNCE and PEER_LIST.
func decodeMembers(p []byte) ([]member, error) {
	var out []member
	for len(p) > 0 {
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: more than %d members", ErrBadFrame, maxListEntries)
		}
		var m member
		var err error
		if m.id, p, err = readStr16(p); err != nil {
			return nil, err
		}
		if m.addr, p, err = readStr16(p); err != nil {
			return nil, err
		}
		if m.id == "" || len(m.id) > MaxNodeIDLen || len(m.addr) > maxAddrLen {
			return nil, fmt.Errorf("%w: member id or address length", ErrBadFrame)
		}
		out = append(out, m)
	}
	return out, nil
}

// presenceFixed is the size of the fixed part of a PRESENCE payload:
// kind u8, ts i64, conns u32.
const presenceFixed = 1 + 8 + 4

// encodePresence returns a PRESENCE frame: topic in the header; payload
// kind u8, ts i64 BE, conns u32 BE, user id (u16-prefixed), data (the rest).
func encodePresence(p Presence) []byte {
	b := make([]byte, 0, presenceFixed+2+len(p.UserID)+len(p.Data))
	b = append(b, p.Kind)
	b = binary.BigEndian.AppendUint64(b, uint64(p.TS))
	b = binary.BigEndian.AppendUint32(b, clampConns(p.Conns))
	b = appendStr16(b, p.UserID)
	b = append(b, p.Data...)
	return encodeFrame(framePresence, 0, p.Topic, b)
}

// decodePresence decodes a PRESENCE frame's topic and payload. Data aliases payload.
func decodePresence(topic string, b []byte) (Presence, error) {
	if len(b) < presenceFixed {
		return Presence{}, fmt.Errorf("%w: short presence", ErrBadFrame)
	}
	p := Presence{
		Kind:  b[0],
		TS:    int64(binary.BigEndian.Uint64(b[1:])),
		Conns: int(binary.BigEndian.Uint32(b[9:])),
		Topic: topic,
	}
	uid, rest, err := readStr16(b[presenceFixed:])
	if err != nil {
		return Presence{}, err
	}
	p.UserID = uid
	if len(rest) > 0 {
		p.Data = rest
	}
	if p.Kind < PresenceJoin || p.Kind > PresenceUpdate {
		return Presence{}, fmt.Errorf("%w: presence kind %d", ErrBadFrame, p.Kind)
	}
	return p, nil
}

// appendPresenceEntry appends one PRESENCE_SYNC entry: kind u8, ts i64,
// conns u32, topic and user id (u16-prefixed), data (u32-prefixed).
func appendPresenceEntry(b []byte, p Presence) []byte {
	b = append(b, p.Kind)
	b = binary.BigEndian.AppendUint64(b, uint64(p.TS))
	b = binary.BigEndian.AppendUint32(b, clampConns(p.Conns))
	b = appendStr16(b, p.Topic)
	b = appendStr16(b, p.UserID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Data)))
	return append(b, p.Data...)
}

// chunkPresence encodes a presence state into PRESENCE_SYNC payloads of at
// most min(syncChunk, maxPayload) bytes, except that an entry larger than
// syncChunk gets a chunk of its own; entries above maxPayload are skipped and
// counted in the second result. An empty state gives one empty chunk.
func chunkPresence(state []Presence, maxPayload int) ([][]byte, int) {
	limit := min(syncChunk, maxPayload)
	var chunks [][]byte
	var cur []byte
	skipped := 0
	for _, p := range state {
		size := presenceFixed + 2 + len(p.Topic) + 2 + len(p.UserID) + 4 + len(p.Data)
		if len(p.Topic) > math.MaxUint16 || len(p.UserID) > math.MaxUint16 || size > maxPayload {
			skipped++
			continue
		}
		if len(cur) > 0 && len(cur)+size > limit {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = appendPresenceEntry(cur, p)
	}
	return append(chunks, cur), skipped
}

// decodePresenceSync decodes a PRESENCE_SYNC payload. Data fields alias b.
func decodePresenceSync(b []byte) ([]Presence, error) {
	var out []Presence
	for len(b) > 0 {
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: more than %d presence entries", ErrBadFrame, maxListEntries)
		}
		if len(b) < presenceFixed {
			return nil, fmt.Errorf("%w: short presence entry", ErrBadFrame)
		}
		p := Presence{
			Kind:  b[0],
			TS:    int64(binary.BigEndian.Uint64(b[1:])),
			Conns: int(binary.BigEndian.Uint32(b[9:])),
		}
		if p.Kind < PresenceJoin || p.Kind > PresenceUpdate {
			return nil, fmt.Errorf("%w: presence kind %d", ErrBadFrame, p.Kind)
		}
		var err error
		rest := b[presenceFixed:]
		if p.Topic, rest, err = readStr16(rest); err != nil {
			return nil, err
		}
		if p.UserID, rest, err = readStr16(rest); err != nil {
			return nil, err
		}
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated presence data length", ErrBadFrame)
		}
		dl := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(dl) > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: presence data of %d bytes beyond frame", ErrBadFrame, dl)
		}
		if dl > 0 {
			p.Data = rest[:dl:dl]
		}
		out = append(out, p)
		b = rest[dl:]
	}
	return out, nil
}

// clampConns converts a connection count to its u32 wire form.
func clampConns(n int) uint32 {
	switch {
	case n < 0:
		return 0
	case uint64(n) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(n)
}
