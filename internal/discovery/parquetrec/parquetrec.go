// Package parquetrec reads Parquet files for the discovery engine and
// registers itself with discovery.RegisterParquet when imported. It is
// kept apart from package discovery because the Parquet library's
// compression dependencies import net/http.
package parquetrec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-io/coffer/internal/discovery"
	"github.com/parquet-go/parquet-go"
)

func init() { discovery.RegisterParquet(Read) }

// Read calls emit for every non-null, non-boolean value of every row.
func Read(ctx context.Context, data []byte, emit func(record int64, path string, value []byte) error) error {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return fmt.Errorf("%w: footer", discovery.ErrMalformedRecords)
	}
	cols := f.Schema().Columns()
	paths := make([]string, len(cols))
	for i, c := range cols {
		paths[i] = "$." + strings.Join(c, ".")
	}
	buf := make([]parquet.Row, 64)
	index := int64(0)
	for _, rg := range f.RowGroups() {
		if err := readGroup(ctx, rg, buf, paths, &index, emit); err != nil {
			return err
		}
	}
	return nil
}

func readGroup(ctx context.Context, rg parquet.RowGroup, buf []parquet.Row, paths []string, index *int64, emit func(int64, string, []byte) error) error {
	rows := rg.Rows()
	defer rows.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := rows.ReadRows(buf)
		for _, row := range buf[:n] {
			for _, v := range row {
				if v.IsNull() {
					continue
				}
				var val []byte
				switch v.Kind() {
				case parquet.ByteArray, parquet.FixedLenByteArray:
					val = v.ByteArray()
				case parquet.Boolean:
					continue
				default:
					val = []byte(v.String())
				}
				c := v.Column()
				if c < 0 || c >= len(paths) {
					continue
				}
				if err := emit(*index, paths[c], val); err != nil {
					return err
				}
			}
			*index++
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: pages", discovery.ErrMalformedRecords)
		}
	}
}
