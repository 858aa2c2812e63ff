package policy

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The case files in testdata/ are blocks separated by blank lines:
//
//	<command> <args…>
//	<input lines…>
//	----
//	<expected output lines…>
//
// Lines starting with # are comments. Commands:
//
//	principal NAME TYPE k=v…   define a requester (no input, no ----)
//	policy NAME KIND           parse and keep a policy; output "ok" or "error CODE: MESSAGE"
//	parse KIND                 parse only (same output)
//	eval k=v…                  one request per input line, one decision per output line
//	public NAME                IsPublic: "true" / "false"
//	crossaccount NAME OWNER    GrantsCrossAccount, space-separated, or "none"
//	checkbucket NAME BUCKET    CheckBucket: "ok" or the error
//
// eval arguments: identity=a,b boundary=x session=a,b resource=r
// acl=account|everyone restrict owner=ACCT objowner=ACCT. Request lines:
// PRINCIPAL ACTION RESOURCE [key=value…], where owner= and objowner=
// override the block's, and any other key=value adds a value to a context
// key (repeat the key for a multivalued one; values may be Go-quoted).
// Decisions print as "allow|deny REASON [SOURCE[i]:STATEMENT]".
//
// Each request line and each policy/parse/public/… block is one case;
// failures are reported as file:line.

type ddBlock struct {
	file     string
	line     int // of the command
	cmd      string
	args     []string
	input    []ddLine
	expected []string
	hasSep   bool
}

type ddLine struct {
	line int
	text string
}

func readBlocks(t *testing.T, path string) []ddBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []ddBlock
	var cur *ddBlock
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	flush := func() {
		if cur != nil {
			blocks = append(blocks, *cur)
			cur = nil
		}
	}
	for sc.Scan() {
		n++
		text := sc.Text()
		switch {
		case cur == nil && (strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#")):
			continue
		case cur == nil:
			fields, err := splitFields(text)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			cur = &ddBlock{file: path, line: n, cmd: fields[0], args: fields[1:]}
			if cur.cmd == "principal" {
				flush()
			}
		case strings.TrimSpace(text) == "":
			flush()
		case text == "----" && !cur.hasSep:
			cur.hasSep = true
		case cur.hasSep:
			cur.expected = append(cur.expected, text)
		case strings.HasPrefix(text, "#"):
		default:
			cur.input = append(cur.input, ddLine{n, text})
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// splitFields splits on spaces, honouring Go-quoted tokens (also as the
// value of key="…").
func splitFields(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		i := 0
		var b strings.Builder
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			if s[i] == '"' {
				q, err := strconv.QuotedPrefix(s[i:])
				if err != nil {
					return nil, fmt.Errorf("bad quoting in %q", s)
				}
				u, _ := strconv.Unquote(q)
				b.WriteString(u)
				i += len(q)
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		out = append(out, b.String())
		s = s[i:]
	}
}

type ddEnv struct {
	principals map[string]Principal
	policies   map[string]*Policy
}

func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	total := map[string]int{}
	for _, file := range files {
		file := file
		t.Run(filepath.Base(file), func(t *testing.T) {
			env := &ddEnv{principals: map[string]Principal{}, policies: map[string]*Policy{}}
			for _, b := range readBlocks(t, file) {
				total[filepath.Base(file)] += env.run(t, b)
			}
		})
	}
	var names []string
	sum := 0
	for k, v := range total {
		names = append(names, fmt.Sprintf("%s=%d", k, v))
		sum += v
	}
	sort.Strings(names)
	t.Logf("cases: %d (%s)", sum, strings.Join(names, " "))
}

// run executes a block and returns how many cases it held.
func (env *ddEnv) run(t *testing.T, b ddBlock) int {
	t.Helper()
	at := fmt.Sprintf("%s:%d", b.file, b.line)
	check := func(line int, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:%d: %s\n  got:  %s\n  want: %s", b.file, line, b.cmd, got, want)
		}
	}
	expectOne := func() string {
		if len(b.expected) != 1 {
			t.Fatalf("%s: want exactly one expected line, have %d", at, len(b.expected))
		}
		return b.expected[0]
	}
	switch b.cmd {
	case "principal":
		if len(b.args) < 2 {
			t.Fatalf("%s: principal NAME TYPE …", at)
		}
		p, err := buildPrincipal(b.args[1], b.args[2:])
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		env.principals[b.args[0]] = p
		return 0
	case "policy", "parse":
		want := expectOne()
		var kindArg string
		if b.cmd == "policy" {
			if len(b.args) != 2 {
				t.Fatalf("%s: policy NAME KIND", at)
			}
			kindArg = b.args[1]
		} else {
			if len(b.args) != 1 {
				t.Fatalf("%s: parse KIND", at)
			}
			kindArg = b.args[0]
		}
		kind, ok := kindByName[kindArg]
		if !ok {
			t.Fatalf("%s: unknown kind %q", at, kindArg)
		}
		var doc strings.Builder
		for i, l := range b.input {
			if i > 0 {
				doc.WriteByte('\n')
			}
			doc.WriteString(l.text)
		}
		p, err := Parse([]byte(doc.String()), kind)
		got := "ok"
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("%s: Parse returned a non-*Error: %v", at, err)
			}
			got = "error " + pe.Code + ": " + pe.Message
		} else if b.cmd == "policy" {
			env.policies[b.args[0]] = p
		}
		check(b.line, got, want)
		return 1
	case "public":
		p := env.policy(t, at, b.args[0])
		check(b.line, strconv.FormatBool(p.IsPublic()), expectOne())
		return 1
	case "crossaccount":
		p := env.policy(t, at, b.args[0])
		got := strings.Join(p.GrantsCrossAccount(b.args[1]), " ")
		if got == "" {
			got = "none"
		}
		check(b.line, got, expectOne())
		return 1
	case "checkbucket":
		p := env.policy(t, at, b.args[0])
		got := "ok"
		if err := p.CheckBucket(b.args[1]); err != nil {
			got = "error " + err.Error()
		}
		check(b.line, got, expectOne())
		return 1
	case "eval":
		return env.eval(t, b, check)
	}
	t.Fatalf("%s: unknown command %q", at, b.cmd)
	return 0
}

var kindByName = map[string]Kind{
	"identity": Identity, "managed": Managed, "boundary": Boundary,
	"session": Session, "resource": Resource, "trust": Trust, "key": KeyPolicy,
}

func (env *ddEnv) policy(t *testing.T, at, name string) *Policy {
	t.Helper()
	p, ok := env.policies[name]
	if !ok {
		t.Fatalf("%s: no policy %q (did it fail to parse?)", at, name)
	}
	return p
}

func (env *ddEnv) eval(t *testing.T, b ddBlock, check func(int, string, string)) int {
	t.Helper()
	at := fmt.Sprintf("%s:%d", b.file, b.line)
	if len(b.expected) != len(b.input) {
		t.Fatalf("%s: %d requests but %d expected lines", at, len(b.input), len(b.expected))
	}
	in := &Input{}
	var owner, objOwner string
	for _, a := range b.args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "identity":
			for _, n := range strings.Split(v, ",") {
				in.Identity = append(in.Identity, env.policy(t, at, n))
			}
		case "session":
			for _, n := range strings.Split(v, ",") {
				in.Session = append(in.Session, env.policy(t, at, n))
			}
		case "boundary":
			in.Boundary = env.policy(t, at, v)
		case "resource":
			in.Resource = env.policy(t, at, v)
		case "acl":
			switch v {
			case "account":
				in.ACL = ACLAccount
			case "everyone":
				in.ACL = ACLEveryone
			default:
				t.Fatalf("%s: acl=%s", at, v)
			}
		case "restrict":
			in.RestrictPublicBuckets = true
		case "owner":
			owner = v
		case "objowner":
			objOwner = v
		default:
			t.Fatalf("%s: unknown eval argument %q", at, a)
		}
	}
	for i, l := range b.input {
		fields, err := splitFields(l.text)
		if err != nil || len(fields) < 3 {
			t.Fatalf("%s:%d: want PRINCIPAL ACTION RESOURCE [k=v…]", b.file, l.line)
		}
		p, ok := env.principals[fields[0]]
		if !ok {
			t.Fatalf("%s:%d: unknown principal %q", b.file, l.line, fields[0])
		}
		r := &Request{Principal: p, Action: fields[1], Resource: fields[2], ResourceAccount: owner, ObjectOwner: objOwner}
		for _, kv := range fields[3:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("%s:%d: context entry %q is not key=value", b.file, l.line, kv)
			}
			switch k {
			case "owner":
				r.ResourceAccount = v
			case "objowner":
				r.ObjectOwner = v
			default:
				if r.Context == nil {
					r.Context = map[string][]string{}
				}
				r.Context[k] = append(r.Context[k], v)
			}
		}
		d := Evaluate(in, r)
		// Evaluation must be deterministic: ask again.
		if d2 := Evaluate(in, r); d2 != d {
			t.Errorf("%s:%d: nondeterministic: %+v then %+v", b.file, l.line, d, d2)
		}
		check(l.line, formatDecision(d), b.expected[i])
	}
	return len(b.input)
}

func formatDecision(d Decision) string {
	s := "deny"
	if d.Allowed {
		s = "allow"
	}
	s += " " + d.Reason.String()
	if d.Source != SourceNone {
		s += " " + d.Source.String()
		if d.Statement != "" {
			if d.Source == SourceIdentity || d.Source == SourceSession {
				s += "[" + strconv.Itoa(d.Index) + "]"
			}
			s += ":" + d.Statement
		}
	}
	return s
}

func buildPrincipal(typ string, args []string) (Principal, error) {
	var p Principal
	switch typ {
	case "anonymous":
		p.Type = Anonymous
	case "root":
		p.Type = Root
	case "user":
		p.Type = IAMUser
	case "role":
		p.Type = AssumedRole
	case "federated":
		p.Type = FederatedUser
	case "service":
		p.Type = Service
	case "webidentity":
		p.Type = WebIdentity
	default:
		return p, fmt.Errorf("unknown principal type %q", typ)
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return p, fmt.Errorf("principal argument %q is not k=v", a)
		}
		switch {
		case k == "account":
			p.Account = v
		case k == "arn":
			p.ARN = v
		case k == "id":
			p.UserID = v
		case k == "role":
			p.RoleARN = v
		case k == "source":
			p.SourceARN = v
		case k == "canonical":
			p.CanonicalID = v
		case strings.HasPrefix(k, "tag:"):
			if p.Tags == nil {
				p.Tags = map[string]string{}
			}
			p.Tags[k[len("tag:"):]] = v
		default:
			return p, fmt.Errorf("unknown principal argument %q", k)
		}
	}
	// Fill what follows from the ARN, to keep the case files short.
	if f, ok := splitARN(p.ARN); ok && p.Account == "" {
		p.Account = f[4]
	}
	if p.Type == Root && p.ARN == "" {
		p.ARN = "arn:aws:iam::" + p.Account + ":root"
	}
	if p.Type == AssumedRole && p.RoleARN == "" {
		if f, ok := splitARN(p.ARN); ok {
			parts := strings.Split(f[5], "/")
			if len(parts) == 3 {
				p.RoleARN = "arn:aws:iam::" + f[4] + ":role/" + parts[1]
			}
		}
	}
	return p, nil
}
