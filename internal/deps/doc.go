// Package deps has no code: its test checks the import rules between gosimclr's packages.
//
//   - ref is the test oracle: production packages do not import it. Only bench (which compares against it)
//     and test-support packages (named …test, like net/http/httptest) may, besides _test.go files.
//   - ref and the host packages it builds on (internal/hostmath, recipe, arch) depend on no GoMLX module, so
//     that graph code and reference share names and host maths without sharing the graph library.
package deps
