package augment

// Unexported values that the image tests, an external package (augment_test) so that they may use
// augmenttest, check against.
const (
	GridGap      = gridGap
	NumJitterOps = numJitterOps
)

var ToByte = toByte
