// Package archtest holds tests of the repository's shape rather than of its
// behaviour: which packages may import which. It has no code of its own;
// the tests read the sources with go/parser, so they run in a second and
// need neither a build nor the go command.
package archtest
