package experiments

import "github.com/spf13/pflag"

func bindPersistence(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error) { return nil }
func bindNTK(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error)         { return nil }
func bindAuthors1D(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error)   { return nil }
func bindMNIST(fs *pflag.FlagSet, quick bool) func(Common) (*Result, error)       { return nil }
