package discovery

import "io"

// pdf is filled in by the PDF text extractor.
func (st *state) pdf(r io.Reader, entry string) error {
	return &ObjectError{Kind: ErrUnsupported, Reason: "UNSUPPORTED_FILE_TYPE", Entry: entry, Detail: "pdf"}
}
