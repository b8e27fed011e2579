// Package scripts carries the project's scripts; PeerPyTorch is embedded so that simclr bench --peer pytorch
// runs the same peer as scripts/peer_pytorch.py (and ../shared/bench/sidebyside.sh) from any directory.
package scripts

import _ "embed"

// PeerPyTorch is the text of peer_pytorch.py.
//
//go:embed peer_pytorch.py
var PeerPyTorch string
