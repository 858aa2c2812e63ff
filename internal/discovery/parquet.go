package discovery

import (
	"errors"
	"io"
)

// parquetFile scans every value of every row as records: the row index
// from 0 and the column path as the JSON path, which is also the keyword
// context. The file is held in memory within MaxBufferedBytes, since the
// footer comes last.
func (st *state) parquetFile(r io.Reader, entry string) (err error) {
	if parquetReader == nil {
		return &ObjectError{Kind: ErrUnsupported, Reason: "UNSUPPORTED_FILE_TYPE", Entry: entry, Detail: "parquet"}
	}
	b, err := st.readAll(r)
	if err != nil {
		return err
	}
	defer func() {
		// A reader that trusts a hostile footer must not take the scanner down.
		if p := recover(); p != nil {
			err = &malformedError{reason: "MALFORMED_FILE", detail: "parquet"}
		}
	}()
	st.scanned = true
	keys := map[string]string{}
	err = parquetReader(st.ctx, b, func(rec int64, path string, val []byte) error {
		st.expanded += int64(len(val))
		if st.expanded > st.e.lim.MaxExpandedBytes {
			return &budgetError{reason: "OBJECT_EXCEEDS_SIZE_QUOTA", detail: "expanded content over the limit"}
		}
		k, ok := keys[path]
		if !ok {
			k = norm(path)
			keys[path] = k
		}
		st.segment(val, k, mAll, where{kind: 1, rec: Record{RecordIndex: rec, JSONPath: path, Entry: entry}})
		return nil
	})
	if errors.Is(err, ErrMalformedRecords) {
		return &malformedError{reason: "MALFORMED_FILE", detail: "parquet"}
	}
	return err
}
