// Package scripts carries the project's scripts; the peer scripts are embedded so that simclr bench --peer
// pytorch,jax runs the same peers as scripts/peer_pytorch.py and scripts/peer_jax.py (and scripts/sidebyside.sh)
// from any directory.
package scripts

import _ "embed"

// PeerPyTorch is the text of peer_pytorch.py.
//
//go:embed peer_pytorch.py
var PeerPyTorch string

// PeerJAX is the text of peer_jax.py.
//
//go:embed peer_jax.py
var PeerJAX string
