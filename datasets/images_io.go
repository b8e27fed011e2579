package datasets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxInMemory caps the bytes one reader holds for one file (after gunzip) or one archive member: 4 GiB, above
// every data set read whole (CIFAR-100 train is 154 MB, STL-10 test 221 MB). STL-10's unlabelled file (2.76 GB)
// is read lazily by STL10Unlabeled instead.
const maxInMemory = 1 << 32

// maxDeflateRatio bounds how much a deflate stream can expand: at most 1032 output bytes per input byte
// (RFC 1951 length 258 codes at ≥ 2 bits each). A gzip size hint above it is a lie and is ignored.
const maxDeflateRatio = 1032

// isGzip reports whether b starts with the gzip magic bytes 1f 8b.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// readFile returns the content of path, gunzipped when it starts with the gzip magic (whatever its name).
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", path, err)
	}
	return maybeGunzip(path, b)
}

// maybeGunzip returns b unchanged, or its decompressed content when b starts with the gzip magic.
// name is used in error messages only.
func maybeGunzip(name string, b []byte) ([]byte, error) {
	if !isGzip(b) {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, gzipError(name, err)
	}
	// The last 4 bytes of a gzip member hold the uncompressed size mod 2³²: a size hint, trusted only when
	// deflate could produce that much from this input.
	hint := 0
	if len(b) >= 18 {
		if h := int(binary.LittleEndian.Uint32(b[len(b)-4:])); h <= maxDeflateRatio*len(b) {
			hint = h
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(zr, maxInMemory+1)); err != nil {
		return nil, gzipError(name, err)
	}
	if buf.Len() > maxInMemory {
		return nil, fmt.Errorf("datasets: read %s: gunzipped size exceeds %d bytes: %w", name, maxInMemory, ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// gzipError wraps a gzip failure; an early end of the stream is reported as ErrTruncated.
func gzipError(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("datasets: read %s: gzip stream ends early: %w", name, ErrTruncated)
	}
	return fmt.Errorf("datasets: read %s: gzip: %w", name, err)
}

// walkTar calls fn for each regular file of the tar stream r (gzipped or not, detected by content), in archive
// order, with the member's header and a reader of its content. fn need not read the content. name is the
// archive's name for error messages. A truncated or corrupt archive is an error, never a silent early end.
func walkTar(name string, r io.Reader, fn func(hdr *tar.Header, content io.Reader) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); isGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return gzipError(name, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return tarError(name, err)
		}
		if hdr.Typeflag != tar.TypeReg { // archive/tar reports old-style '\x00' files as TypeReg too
			continue
		}
		if err := fn(hdr, tr); err != nil {
			return err
		}
	}
}

// tarError wraps an archive/tar or gzip failure; an early end of the stream is reported as ErrTruncated.
func tarError(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("datasets: read %s: archive ends early: %w", name, ErrTruncated)
	}
	return fmt.Errorf("datasets: read %s: %w", name, err)
}

// readMember reads the content of the tar member hdr, refusing sizes above maxInMemory. The buffer grows with
// the bytes actually present, so a header that lies about its size cannot force a large allocation.
func readMember(archive string, hdr *tar.Header, content io.Reader) ([]byte, error) {
	if hdr.Size > maxInMemory {
		return nil, fmt.Errorf("datasets: read %s: member %s claims %d bytes: %w", archive, hdr.Name, hdr.Size, ErrTooLarge)
	}
	var buf bytes.Buffer
	if hdr.Size <= 1<<20 {
		buf.Grow(int(hdr.Size))
	}
	if _, err := buf.ReadFrom(content); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("datasets: read %s: member %s: %w", archive, hdr.Name, ErrTruncated)
		}
		return nil, fmt.Errorf("datasets: read %s: member %s: %w", archive, hdr.Name, err)
	}
	return buf.Bytes(), nil
}

// sizeError reports that name holds have bytes where want were expected: ErrTruncated when short, ErrTrailingData
// when long. what describes the expected content, e.g. "16-byte header + 60000×28×28 pixels".
func sizeError(name string, have, want int64, what string) error {
	if have < want {
		return fmt.Errorf("datasets: read %s: %s needs %d bytes, file holds %d (short by %d from offset %d): %w",
			name, what, want, have, want-have, have, ErrTruncated)
	}
	return fmt.Errorf("datasets: read %s: %s needs %d bytes, file holds %d (%d extra bytes from offset %d): %w",
		name, what, want, have, have-want, want, ErrTrailingData)
}

// recordsError checks that a headerless file of size bytes holds a whole, non-zero number of records of rs
// bytes; otherwise its last record is incomplete and the error (ErrTruncated) names it and its offset.
func recordsError(name string, size, rs int) error {
	if size == 0 {
		return fmt.Errorf("datasets: read %s: empty file, want records of %d bytes: %w", name, rs, ErrTruncated)
	}
	if r := size % rs; r != 0 {
		return fmt.Errorf("datasets: read %s: %d bytes is not a whole number of %d-byte records: record %d at offset %d has %d bytes: %w",
			name, size, rs, size/rs, size-r, r, ErrTruncated)
	}
	return nil
}
