package e2e

import "errors"

// ErrOpen is returned for an encrypted frame that cannot be decrypted:
// too short, without the prefix, or failing authentication.
var ErrOpen = errors.New("e2e: cannot decrypt frame")
