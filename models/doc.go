// Package models builds gosimclr's encoders as GoMLX graph functions from the plain-data descriptions of
// package arch. Parameters are explicit: every function takes its parameter nodes as a slice in the order of
// the description's Params(), so the training step, the reference comparison and checkpoints all see the same
// list. Package ref holds the plain-Go twin of every network here.
package models
