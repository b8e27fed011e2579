// Package bench times SimCLR training steps on GoMLX backends and on the pure-Go reference (package ref) in
// the same process, and reports each as milliseconds per step, GFLOP/s from an analytic FLOP count, compile
// time, peak memory, and the ratio to the reference. Sweep times scaling series of the same steps (loss
// against N, one hidden layer against width, MLP against depth) and fits power laws to them.
package bench
