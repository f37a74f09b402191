package accesslog

// Batch is a run of access-log lines as a sink receives it: the lines one
// after another in one buffer, each ended by '\n', so a sink writing JSON
// lines writes Bytes as they are.
type Batch struct {
	buf   []byte
	start int   // where the first line begins in buf
	ends  []int // offset in buf just past each line's newline
}

// Len is the number of lines.
func (b *Batch) Len() int { return len(b.ends) }

// Bytes are the lines, each ended by '\n'.
func (b *Batch) Bytes() []byte {
	if len(b.ends) == 0 {
		return nil
	}
	return b.buf[b.start:b.ends[len(b.ends)-1]]
}

// Line is line i without its newline.
func (b *Batch) Line(i int) []byte {
	start := b.start
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start : b.ends[i]-1]
}

// add appends one line (without its newline) to a batch that starts its
// buffer.
func (b *Batch) add(line []byte) {
	b.buf = append(append(b.buf, line...), '\n')
	b.ends = append(b.ends, len(b.buf))
}

// reset empties the batch, keeping its memory.
func (b *Batch) reset() {
	b.buf, b.start, b.ends = b.buf[:0], 0, b.ends[:0]
}

// split leaves the first n lines in b and moves the others into rest's
// memory (reset first): the lines a partial take leaves queued.
func (b *Batch) split(n int, rest *Batch) {
	rest.reset()
	for i := n; i < len(b.ends); i++ {
		rest.add(b.Line(i))
	}
	b.ends = b.ends[:n]
}

// chunks calls fn with consecutive parts of b of at most maxLines lines
// and at most maxBytes bytes (unless one line alone is larger), stopping
// at fn's first error. The parts share b's memory.
func (b *Batch) chunks(maxLines, maxBytes int, fn func(*Batch) error) error {
	part := Batch{buf: b.buf, start: b.start}
	first := 0
	for i, end := range b.ends {
		if n := i - first; n > 0 && (n == maxLines || end-part.start > maxBytes) {
			part.ends = b.ends[first:i]
			if err := fn(&part); err != nil {
				return err
			}
			first, part.start = i, b.ends[i-1]
		}
	}
	if first == len(b.ends) {
		return nil
	}
	part.ends = b.ends[first:]
	return fn(&part)
}
