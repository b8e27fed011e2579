package main

import "errors"

func runBench(args []string) error { return usageError{errors.New("bench: not built yet")} }
