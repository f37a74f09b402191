package accesslog

import (
	"slices"
	"strings"
	"testing"
)

func batchOf(lines ...string) *Batch {
	var b Batch
	for _, l := range lines {
		b.add([]byte(l))
	}
	return &b
}

func linesOf(b *Batch) []string {
	var out []string
	for i := range b.Len() {
		out = append(out, string(b.Line(i)))
	}
	return out
}

func TestBatchChunks(t *testing.T) {
	tests := []struct {
		name               string
		lines              []string
		maxLines, maxBytes int
		want               [][]string
	}{
		{"empty", nil, 10, 100, nil},
		{"one chunk", []string{"a", "bb", "c"}, 10, 100, [][]string{{"a", "bb", "c"}}},
		{"by lines", []string{"a", "b", "c", "d", "e"}, 2, 100, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		// "aaa\n" is 4 bytes: two lines make 8, over 6.
		{"by bytes", []string{"aaa", "bbb", "ccc"}, 10, 6, [][]string{{"aaa"}, {"bbb"}, {"ccc"}}},
		{"a line larger than the bytes alone", []string{"a", strings.Repeat("x", 20), "b"}, 10, 6, [][]string{{"a"}, {strings.Repeat("x", 20)}, {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batchOf(tt.lines...)
			var got [][]string
			var data []string
			err := b.chunks(tt.maxLines, tt.maxBytes, func(p *Batch) error {
				got = append(got, linesOf(p))
				data = append(data, string(p.Bytes()))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Fatalf("chunks %q, want %q", got, tt.want)
			}
			for i, d := range data {
				if want := strings.Join(tt.want[i], "\n") + "\n"; d != want {
					t.Errorf("chunk %d bytes %q, want %q", i, d, want)
				}
			}
		})
	}
}

func TestBatchSplitKeepsTheRest(t *testing.T) {
	b := batchOf("one", "two", "three", "four")
	rest := batchOf("stale")
	b.split(3, rest)
	if got := linesOf(b); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("head %q", got)
	}
	if string(b.Bytes()) != "one\ntwo\nthree\n" {
		t.Errorf("head bytes %q", b.Bytes())
	}
	if got := linesOf(rest); !slices.Equal(got, []string{"four"}) || string(rest.Bytes()) != "four\n" {
		t.Errorf("rest %q (%q)", got, rest.Bytes())
	}
	b.split(0, rest)
	if b.Len() != 0 || b.Bytes() != nil || rest.Len() != 3 {
		t.Errorf("split(0): head %d lines, rest %d", b.Len(), rest.Len())
	}
}
