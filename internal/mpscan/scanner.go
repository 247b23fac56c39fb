package mpscan

import (
	"encoding/binary"
	"math"
	"time"
)

// Kind is the type of a Token.
type Kind uint8

// Token kinds.
const (
	Nil   Kind = iota + 1
	Bool       // Token.Bool
	Uint       // Token.Uint: positive fixint and uint 8/16/32/64
	Int        // Token.Int: negative fixint and int 8/16/32/64
	Float      // Token.Float (finite), Token.Bits 32 or 64
	Str        // Token.Bytes
	Bin        // Token.Bytes
	Array      // Token.Len values follow
	Map        // Token.Len key/value pairs follow
	Time       // Token.Time: the timestamp extension
)

// timestampExt is the MessagePack extension type of timestamps.
const timestampExt = -1

// Token is one MessagePack value, or the header of a container.
type Token struct {
	Kind  Kind
	Bool  bool
	Uint  uint64
	Int   int64
	Float float64
	Bits  int
	// Bytes aliases the input: copy what must outlive it.
	Bytes []byte
	Len   int
	Time  time.Time
}

// Scanner reads tokens from a byte slice.
type Scanner struct {
	b []byte
	i int
}

// New returns a Scanner over b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Done reports whether every byte has been read.
func (s *Scanner) Done() bool { return s.i == len(s.b) }

// NextKey reads a map key, which must be a string: the first byte is
// checked before anything is decoded.
func (s *Scanner) NextKey() ([]byte, error) {
	if s.i >= len(s.b) {
		return nil, ErrTruncated
	}
	if c := s.b[s.i]; c&0xe0 != 0xa0 && (c < 0xd9 || c > 0xdb) {
		return nil, ErrKey
	}
	t, err := s.Next()
	return t.Bytes, err
}

// Next reads one token.
func (s *Scanner) Next() (Token, error) {
	p, err := s.take(1)
	if err != nil {
		return Token{}, err
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return Token{Kind: Uint, Uint: uint64(c)}, nil
	case c >= 0xe0:
		return Token{Kind: Int, Int: int64(int8(c))}, nil
	case c&0xf0 == 0x80:
		return s.container(Map, uint64(c&0x0f))
	case c&0xf0 == 0x90:
		return s.container(Array, uint64(c&0x0f))
	case c&0xe0 == 0xa0:
		return s.bytes(Str, int(c&0x1f))
	}
	switch c {
	case 0xc0:
		return Token{Kind: Nil}, nil
	case 0xc2, 0xc3:
		return Token{Kind: Bool, Bool: c == 0xc3}, nil
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, err := s.length(1<<(c-0xc4), 1)
		if err != nil {
			return Token{}, err
		}
		return s.bytes(Bin, n)
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, err := s.length(1<<(c-0xc7), 1)
		if err != nil {
			return Token{}, err
		}
		return s.ext(n)
	case 0xca:
		n, err := s.uint(4)
		return float(float64(math.Float32frombits(uint32(n))), 32, err)
	case 0xcb:
		n, err := s.uint(8)
		return float(math.Float64frombits(n), 64, err)
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		n, err := s.uint(1 << (c - 0xcc))
		return Token{Kind: Uint, Uint: n}, err
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		n, err := s.uint(size)
		shift := 64 - 8*size
		return Token{Kind: Int, Int: int64(n<<shift) >> shift}, err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return s.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, err := s.length(1<<(c-0xd9), 1)
		if err != nil {
			return Token{}, err
		}
		return s.bytes(Str, n)
	case 0xdc, 0xdd: // array 16/32
		n, err := s.uint(2 << (c - 0xdc))
		if err != nil {
			return Token{}, err
		}
		return s.container(Array, n)
	case 0xde, 0xdf: // map 16/32
		n, err := s.uint(2 << (c - 0xde))
		if err != nil {
			return Token{}, err
		}
		return s.container(Map, n)
	}
	return Token{}, ErrReserved
}

// take returns the next n bytes.
func (s *Scanner) take(n int) ([]byte, error) {
	if n < 0 || n > len(s.b)-s.i {
		return nil, ErrTruncated
	}
	p := s.b[s.i : s.i+n]
	s.i += n
	return p, nil
}

// uint reads a big-endian unsigned integer of size bytes (1, 2, 4 or 8).
func (s *Scanner) uint(size int) (uint64, error) {
	p, err := s.take(size)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range p {
		n = n<<8 | uint64(c)
	}
	return n, nil
}

// length reads a length of size bytes and checks that at least per·length
// bytes remain.
func (s *Scanner) length(size, per int) (int, error) {
	n, err := s.uint(size)
	if err != nil {
		return 0, err
	}
	if n > uint64(len(s.b)-s.i)/uint64(per) {
		return 0, ErrTruncated
	}
	return int(n), nil
}

// container checks that n entries (a map's entries take two values) can
// fit in what is left, each at least one byte.
func (s *Scanner) container(k Kind, n uint64) (Token, error) {
	per := uint64(1)
	if k == Map {
		per = 2
	}
	if n > uint64(len(s.b)-s.i)/per {
		return Token{}, ErrTruncated
	}
	return Token{Kind: k, Len: int(n)}, nil
}

// bytes reads a string or bin body of n bytes.
func (s *Scanner) bytes(k Kind, n int) (Token, error) {
	p, err := s.take(n)
	if err != nil {
		return Token{}, err
	}
	return Token{Kind: k, Bytes: p}, nil
}

// float passes f on unless it has no JSON form.
func float(f float64, bits int, err error) (Token, error) {
	if err != nil {
		return Token{}, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Token{}, ErrFloat
	}
	return Token{Kind: Float, Float: f, Bits: bits}, nil
}

// ext reads an extension of n data bytes: only timestamps of the years 0
// to 9999 are accepted.
func (s *Scanner) ext(n int) (Token, error) {
	p, err := s.take(1 + n)
	if err != nil {
		return Token{}, err
	}
	if int8(p[0]) != timestampExt {
		return Token{}, ErrExt
	}
	p = p[1:]
	var sec int64
	var nsec uint32
	switch n {
	case 4:
		sec = int64(binary.BigEndian.Uint32(p))
	case 8:
		v := binary.BigEndian.Uint64(p)
		nsec, sec = uint32(v>>34), int64(v&(1<<34-1))
	case 12:
		nsec, sec = binary.BigEndian.Uint32(p), int64(binary.BigEndian.Uint64(p[4:]))
	default:
		return Token{}, ErrExt
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if nsec >= 1e9 || t.Year() < 0 || t.Year() > 9999 {
		return Token{}, ErrExt
	}
	return Token{Kind: Time, Time: t}, nil
}
