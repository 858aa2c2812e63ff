package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Record encoding. All records go through encode/decode, so the encoding
// can change in one place (with a FormatVersion bump). Fields that the
// index key or bucket already give (object key, bucket name) are blanked
// before encoding and restored on decode.

func encode(v any) ([]byte, error) { return json.Marshal(v) }

func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("bolt: corrupt record: %w", err)
	}
	return nil
}

// encodeVersion encodes a version record (see vcodec.go); the object key
// and bucket come from the index and are not stored.
func encodeVersion(v *meta.ObjectVersion) ([]byte, error) {
	return encodeVersionBinary(v), nil
}

func decodeVersion(bucket, key string, data []byte) (*meta.ObjectVersion, error) {
	v := new(meta.ObjectVersion)
	if err := decodeVersionBinary(data, v); err != nil {
		return nil, err
	}
	v.Bucket, v.Key = bucket, key
	return v, nil
}

func encodeUpload(u *meta.Upload) ([]byte, error) {
	c := *u
	c.Bucket, c.Key = "", ""
	return encode(&c)
}

func decodeUpload(bucket, key string, data []byte) (*meta.Upload, error) {
	u := new(meta.Upload)
	if err := decode(data, u); err != nil {
		return nil, err
	}
	u.Bucket, u.Key = bucket, key
	return u, nil
}

// Index keys.

const sep = 0x00 // ends an object key or upload id inside index keys

var errNUL = errors.New("bolt: object keys and upload ids must not contain NUL")

func checkName(s string) error {
	if strings.IndexByte(s, sep) >= 0 {
		return errNUL
	}
	return nil
}

// keyPrefix is the prefix of every ver, vid and upl entry of key.
func keyPrefix(key string) []byte {
	b := make([]byte, 0, len(key)+1)
	return append(append(b, key...), sep)
}

// verKey orders a key's versions newest (highest seq) first.
func verKey(key string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(keyPrefix(key), ^seq)
}

// verKeySplit returns the object key and seq of a ver index key.
func verKeySplit(k []byte) (string, uint64) {
	n := len(k) - 8
	return string(k[:n-1]), ^binary.BigEndian.Uint64(k[n:])
}

func vidKey(key, versionID string) []byte {
	return append(keyPrefix(key), versionID...)
}

func seqBytes(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// uplKey orders a key's uploads by initiation time, then upload id.
func uplKey(key string, initiated time.Time, uploadID string) []byte {
	// Flipping the sign bit makes negative times sort before positive.
	t := uint64(initiated.UnixNano()) ^ (1 << 63)
	if initiated.IsZero() {
		t = 0
	}
	return append(binary.BigEndian.AppendUint64(keyPrefix(key), t), uploadID...)
}

// prtKey orders an upload's parts by number.
func prtKey(uploadID string, n int) []byte {
	b := make([]byte, 0, len(uploadID)+5)
	b = append(append(b, uploadID...), sep)
	return binary.BigEndian.AppendUint32(b, uint32(min(max(n, 0), math.MaxUint32)))
}

func prtPrefix(uploadID string) []byte { return keyPrefix(uploadID) }

// prefixEnd returns the smallest byte string greater than every string
// with prefix p, or nil if there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
