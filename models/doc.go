// Package models builds gosimclr's encoders as GoMLX graph functions from the plain-data descriptions of
// package arch. Parameters are explicit: every function takes its parameter nodes as a slice in the order of
// the description's Params(), so the training step, the reference comparison and checkpoints all see the same
// list. Package ref holds the plain-Go twin of every network here.
//
// An Encoder is a Body (MLPBody, CNNBody, ResNetBody: the network whose output is the features) with SimCLR's
// projection head on top; Particle is the model without a network. registry.go lists the models simclr train
// builds by name (Lookup, Names): adding a model is adding one entry there.
package models
