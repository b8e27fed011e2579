package backendtest

import "flag"

// isSet returns the value of the test flag name when it was given on the command line, else "".
func isSet(name string) string {
	v := ""
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			v = f.Value.String()
		}
	})
	return v
}

func setFlag(name, value string) error { return flag.Set(name, value) }
