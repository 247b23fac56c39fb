package auth

import "errors"

// ErrInvalidConfig is returned by NewVerifier for an unusable Config: an
// unknown algorithm, a secret that is too short, a PEM key that does not
// parse or does not fit the algorithm.
var ErrInvalidConfig = errors.New("auth: invalid config")

// ErrInvalidToken is the error every verification failure satisfies with
// errors.Is, including ErrTokenTooLarge, ErrTokenExpired and ErrMissingSubject.
var ErrInvalidToken = errors.New("auth: invalid token")

// ErrTokenTooLarge is returned by Verify for a token longer than
// Config.MaxTokenSize. It satisfies errors.Is(err, ErrInvalidToken).
var ErrTokenTooLarge error = &tokenError{"auth: token too large"}

// ErrTokenExpired is returned by Verify for a token whose "exp" lies further
// in the past than the leeway. It satisfies errors.Is(err, ErrInvalidToken).
var ErrTokenExpired error = &tokenError{"auth: token expired"}

// ErrMissingSubject is returned by Verify for a token whose "sub" claim is
// absent, empty or not a string. It satisfies errors.Is(err, ErrInvalidToken).
var ErrMissingSubject error = &tokenError{"auth: token missing subject"}

// ErrInvalidKey is returned by Sign, EncodeHS256, Mint and Verifier.Sign when
// the signing key is unusable: a secret shorter than the algorithm requires, a
// private key that does not parse, or no signing key configured.
var ErrInvalidKey = errors.New("auth: invalid signing key")

// ErrInvalidClaims is returned by Sign, EncodeHS256, Mint and Verifier.Sign
// when the claims cannot be encoded, and by Mint for an empty subject or a
// non-positive lifetime.
var ErrInvalidClaims = errors.New("auth: invalid claims")

// errKeyIDMismatch is the reason a token is refused when Config.KeyID is set,
// the token header "kid" differs and no previous key is configured.
var errKeyIDMismatch = errors.New("key id does not match")

// tokenError is a sentinel that is also an ErrInvalidToken.
type tokenError struct{ msg string }

// Error returns the sentinel's message.
func (e *tokenError) Error() string { return e.msg }

// Unwrap makes every tokenError satisfy errors.Is(err, ErrInvalidToken).
func (e *tokenError) Unwrap() error { return ErrInvalidToken }
