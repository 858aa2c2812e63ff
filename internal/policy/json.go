package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// A policy document is decoded into a small ordered tree rather than into
// structs: encoding/json silently keeps the last of two members with the
// same name and folds member names case-insensitively, and both would let a
// document mean something other than what AWS would read. The tree keeps
// member order (so errors are reported in document order), the literal text
// of numbers, and refuses duplicate member names.

type jkind uint8

const (
	jObject jkind = iota
	jArray
	jString
	jNumber
	jBool
	jNull
)

type jnode struct {
	kind    jkind
	str     string // jString: the value; jNumber: the literal text
	boolean bool
	members []jmember // jObject, in document order
	elems   []*jnode  // jArray
}

type jmember struct {
	name string
	val  *jnode
}

// get returns the member called name, or nil.
func (n *jnode) get(name string) *jnode {
	for i := range n.members {
		if n.members[i].name == name {
			return n.members[i].val
		}
	}
	return nil
}

var (
	errJSONSyntax    = errors.New("invalid JSON")
	errJSONDuplicate = errors.New("duplicate member name")
)

// decodeJSON parses exactly one JSON value (and nothing after it but
// whitespace). It reports errJSONSyntax for text that is not JSON and
// errJSONDuplicate for an object that names a member twice.
func decodeJSON(doc []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	n, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errJSONSyntax
	}
	return n, nil
}

// maxDepth bounds nesting. A valid policy nests at most five levels
// (document, Statement array, statement, Condition, operator, key array);
// anything deeper is refused before it can cost stack.
const maxDepth = 16

func decodeValue(dec *json.Decoder, depth int) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errJSONSyntax
	}
	return decodeFrom(dec, tok, depth)
}

func decodeFrom(dec *json.Decoder, tok json.Token, depth int) (*jnode, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, errJSONSyntax
		}
		switch t {
		case '{':
			n := &jnode{kind: jObject}
			for {
				tok, err := dec.Token()
				if err != nil {
					return nil, errJSONSyntax
				}
				if d, ok := tok.(json.Delim); ok && d == '}' {
					return n, nil
				}
				name, ok := tok.(string)
				if !ok {
					return nil, errJSONSyntax
				}
				if n.get(name) != nil {
					return nil, errJSONDuplicate
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, jmember{name, v})
			}
		case '[':
			n := &jnode{kind: jArray}
			for {
				tok, err := dec.Token()
				if err != nil {
					return nil, errJSONSyntax
				}
				if d, ok := tok.(json.Delim); ok && d == ']' {
					return n, nil
				}
				v, err := decodeFrom(dec, tok, depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		}
		return nil, errJSONSyntax
	case string:
		return &jnode{kind: jString, str: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: string(t)}, nil
	case bool:
		return &jnode{kind: jBool, boolean: t}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, errJSONSyntax
}
