package discovery

import (
	"bytes"
	"encoding/base64"
	"regexp"
)

// emitFunc receives one match: identifier index and byte range in the segment.
type emitFunc func(idx, start, end int)

// segment is text the detectors look at, with its structural keyword
// context (a column name or the JSON path, normalised) for §9.2.
type detector struct {
	e     *Engine
	seg   []byte
	kctx  string
	ctxKW []bool // per identifier: a keyword is in kctx
	mask  uint32 // anchors present (see anchorMask); all set when unknown
	emit  emitFunc
	buf   [160]byte
}

// Anchor bits: which literal-led detectors can match at all.
const (
	mAt uint32 = 1 << iota
	mBegin
	mStripe
	mJWT
	mGCP
	mBasic
	mPuTTY
	mCookie
	mAWS
	mAll = 1<<iota - 1
)

// anchorBits: each literal anchor is searched by its rarest byte (at off
// within the anchor), which vector IndexByte skips to quickly in prose.
var anchorBits = []struct {
	p    []byte
	rare byte
	off  int
	m    uint32
}{
	{[]byte("@"), '@', 0, mAt}, {[]byte("-----BEGIN "), 'G', 7, mBegin}, {[]byte("_live_"), '_', 0, mStripe}, {jwtHeader, 'J', 2, mJWT},
	{[]byte("AIza"), 'z', 2, mGCP}, {[]byte("Basic "), 'B', 0, mBasic}, {[]byte("PuTTY-User-Key-File-"), 'T', 2, mPuTTY},
	{[]byte("ookie: "), 'k', 2, mCookie}, {awsAnchors[1], 'C', 1, mAWS}, {awsAnchors[3], 'D', 2, mAWS},
}

// anchorMask is the multi-pattern prefilter: one look at the text decides
// which literal-led detectors run at all.
func anchorMask(b []byte) uint32 {
	var m uint32
	for _, a := range anchorBits {
		if m&a.m != 0 {
			continue
		}
		from := 0
		for {
			k := bytes.IndexByte(b[from:], a.rare)
			if k < 0 {
				break
			}
			at := from + k - a.off
			if at >= 0 && at+len(a.p) <= len(b) && bytes.Equal(b[at:at+len(a.p)], a.p) {
				m |= a.m
				break
			}
			from += k + 1
		}
	}
	// Lower-case AWS keywords start with common letters: let the adaptive
	// substring search handle them.
	if m&mAWS == 0 && (bytes.Contains(b, awsAnchors[0]) || bytes.Contains(b, awsAnchors[2])) {
		m |= mAWS
	}
	return m
}

// near reports whether one of identifier idx's keywords is within 30
// characters of seg[s:j], or in the structural context.
func (d *detector) near(idx, s, j int) bool {
	kws := d.e.defs[idx].kwb
	if len(kws) == 0 {
		return false
	}
	if d.ctxKW != nil && d.ctxKW[idx] {
		return true
	}
	a, b := s-30, j+30
	if a < 0 {
		a = 0
	}
	if b > len(d.seg) {
		b = len(d.seg)
	}
	n := 0
	for _, c := range d.seg[a:b] {
		if c == ' ' || c == '_' || c == '-' {
			continue
		}
		if isUpper(c) {
			c += 32
		}
		if n == len(d.buf) {
			break
		}
		d.buf[n] = c
		n++
	}
	w := d.buf[:n]
	for _, k := range kws {
		if bytes.Contains(w, k) {
			return true
		}
	}
	return false
}

func containsStr(s, sub string) bool { return len(sub) <= len(s) && indexStr(s, sub) >= 0 }

func indexStr(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func (d *detector) on(idx int) bool { return d.e.on[idx] }

// hit emits a match unless an allow list covers it.
func (d *detector) hit(idx, s, j int) {
	if (idx < d.e.nMgd && !d.e.on[idx]) || d.e.allowed(d.seg[s:j]) {
		return
	}
	d.emit(idx, s, j)
}

// run applies every managed detector, then the custom identifiers.
func (d *detector) run() {
	seg := d.seg
	// Digit-led tokens: most identifiers are numbers.
	for i := 0; i < len(seg); i++ {
		if !isDigit(seg[i]) {
			continue
		}
		i = d.number(i) - 1
	}
	if d.mask&mAt != 0 && d.on(idEmail) {
		d.emails()
	}
	if d.mask&mBegin != 0 {
		d.privateKeys()
	}
	if d.mask&^(mAt|mBegin) != 0 || d.ctxKW != nil {
		d.anchors()
	}
	for i := range d.e.custom {
		d.customID(&d.e.custom[i])
	}
}

// number examines the numeric token starting at seg[s] and returns where it ends.
func (d *detector) number(s int) int {
	seg := d.seg
	var dg [40]byte
	nd := 0
	j := s
	seps := 0
	var sep byte
	for j < len(seg) {
		c := seg[j]
		if isDigit(c) {
			if nd < len(dg) {
				dg[nd] = c
			}
			nd++
			j++
			continue
		}
		if (c == ' ' || c == '-' || c == '.' || c == '/' || c == ')') && j+1 < len(seg) && (isDigit(seg[j+1]) || (c == ')' && seg[j+1] == ' ' && j+2 < len(seg) && isDigit(seg[j+2]))) {
			if c == ')' && seg[j+1] == ' ' {
				j++
			}
			seps++
			if sep == 0 {
				sep = c
			} else if sep != c && c != ')' && sep != ')' {
				sep = '*'
			}
			j++
			continue
		}
		break
	}
	end := j
	// Trailing separator-free run only; a token glued to letters on the
	// left is handled by the letter-prefixed identifiers.
	before := byte(' ')
	if s > 0 {
		before = seg[s-1]
	}
	after := byte(' ')
	if end < len(seg) {
		after = seg[end]
	}
	if nd > len(dg) {
		return end
	}
	digits := dg[:nd]
	tok := seg[s:end]

	if isAlpha(before) {
		d.letterPrefixed(s, end, digits, seps)
		return end
	}
	if isAlpha(after) {
		d.letterSuffixed(s, end, digits, seps, after)
		return end
	}
	if isDigit(before) || before == '.' && s >= 2 && isDigit(seg[s-2]) {
		return end
	}
	if nd >= 4 && (after == '.' || after == ',') && end+1 < len(seg) && isDigit(seg[end+1]) {
		// a decimal or thousands-separated figure, not an identifier
		return end
	}
	switch {
	case nd >= 13 && nd <= 19 && (seps == 0 || sep == ' ' || sep == '-'):
		if luhn(digits) {
			if nd == 16 && string(digits[:4]) == "6061" && d.near(idSUBE, s, end) {
				d.hit(idSUBE, s, end)
			} else if cardPrefix(digits) && !testCard[string(digits)] {
				if d.near(idCard, s, end) {
					d.hit(idCard, s, end)
				} else {
					d.hit(idCardNoKW, s, end)
				}
			}
		}
		if nd == 15 && d.on(idINSEE) && insee(digits) && d.near(idINSEE, s, end) {
			d.hit(idINSEE, s, end)
		}
		if nd <= 17 && seps == 0 && d.near(idBankAcct, s, end) {
			d.hit(idBankAcct, s, end)
		}
	case nd == 9:
		d.nine(s, end, digits, seps, sep, tok)
	case nd == 10:
		if (seps == 0 || (seps == 2 && sep == ' ')) && nhs(digits) && d.near(idNHS, s, end) {
			d.hit(idNHS, s, end)
		}
		if seps == 0 && npi(digits) && d.near(idNPI, s, end) {
			d.hit(idNPI, s, end)
		}
		if seps >= 2 || before == '(' {
			d.phone(s, end, digits, before)
		}
		if seps == 0 && d.near(idBankAcct, s, end) && !d.near(idPhone, s, end) && !d.near(idNPI, s, end) && !d.near(idNHS, s, end) {
			d.hit(idBankAcct, s, end)
		}
		if seps == 0 && d.near(idDL, s, end) {
			d.hit(idDL, s, end)
		}
	case nd == 11 || nd == 12 || nd == 13:
		if before == '+' || (s >= 2 && seg[s-1] == '(' && seg[s-2] == '+') {
			d.phone(s, end, digits, before)
		} else if nd == 11 && seps >= 2 && digits[0] == '1' {
			d.phone(s, end, digits, before)
		}
		if nd == 12 && (seps == 0 || (seps == 2 && sep == ' ')) && verhoeff(digits) && digits[0] >= '2' && d.near(idAadhaar, s, end) {
			d.hit(idAadhaar, s, end)
		}
		if seps == 0 && nd <= 12 && d.near(idDL, s, end) {
			d.hit(idDL, s, end)
		}
		if seps == 0 && d.near(idBankAcct, s, end) && !d.near(idPhone, s, end) {
			d.hit(idBankAcct, s, end)
		}
	case nd == 7 || nd == 8:
		if seps == 0 && d.near(idDL, s, end) {
			d.hit(idDL, s, end)
		}
		if seps > 0 && (sep == '/' || sep == '-' || sep == '.') {
			d.date(s, end, digits, seps, sep)
		}
	case nd == 14:
		// 14 digits: only bank accounts
		if seps == 0 && d.near(idBankAcct, s, end) {
			d.hit(idBankAcct, s, end)
		}
	case nd >= 4 && nd <= 6 && seps > 0 && (sep == '/' || sep == '-' || sep == '.'):
		d.date(s, end, digits, seps, sep)
	case (nd == 3 || nd == 4) && seps == 0:
		if d.on(idCardCVV) && d.near(idCardCVV, s, end) {
			d.hit(idCardCVV, s, end)
		}
		if nd == 4 && d.on(idDOB) && (digits[0] == '1' && digits[1] == '9' || digits[0] == '2' && digits[1] == '0') {
			d.monthNameDate(s, end)
		}
		if nd == 4 && d.on(idCardExp) && digits[0] == '2' && digits[1] == '0' && d.near(idCardExp, s, end) {
			d.monthNameExp(s, end)
		}
	case nd == 5 && seps == 0:
		if d.on(idAddress) {
			d.address(s, end)
		}
	}
	if nd == 6 && seps == 2 && sep == ' ' && end-s == 8 && d.on(idNINO) {
		d.ninoSpaced(s, end)
	}
	if nd == 9 && seps == 1 && sep == '-' && d.on(idAddress) && end-s == 10 {
		d.address(s, end)
	}
	return end
}

// nine handles nine-digit tokens: SSN, ITIN, ABA, SIN, passports, bank accounts.
func (d *detector) nine(s, end int, dg []byte, seps int, sep byte, tok []byte) {
	plain := seps == 0
	ssnShape := plain || (seps == 2 && (sep == '-' || sep == ' ') && len(tok) == 11 && tok[3] == sep && tok[6] == sep)
	sinShape := plain || (seps == 2 && (sep == '-' || sep == ' ') && len(tok) == 11 && tok[3] == sep && tok[7] == sep)
	if ssnShape {
		if dg[0] == '9' {
			if (dg[3] == '7' || dg[3] == '8' || dg[3] == '9') && d.near(idITIN, s, end) {
				d.hit(idITIN, s, end)
			}
		} else if ssnValid(dg) && d.near(idSSN, s, end) {
			d.hit(idSSN, s, end)
		}
	}
	if sinShape && luhn(dg) && dg[0] != '0' && dg[0] != '8' && d.near(idSIN, s, end) {
		d.hit(idSIN, s, end)
	}
	if plain {
		if aba(dg) && d.near(idABA, s, end) {
			d.hit(idABA, s, end)
		}
		if d.near(idUSPassport, s, end) {
			d.hit(idUSPassport, s, end)
		}
		if d.near(idDL, s, end) {
			d.hit(idDL, s, end)
		}
		if d.near(idBankAcct, s, end) && !d.near(idABA, s, end) {
			d.hit(idBankAcct, s, end)
		}
	}
}

// letterPrefixed handles numbers glued to letters on the left: IBAN, NINO,
// DEA, NIE, US passport (letter + 8 digits), driver's licences, HICN-free.
func (d *detector) letterPrefixed(s, end int, dg []byte, seps int) {
	seg := d.seg
	// IBAN: CC + 2 check digits + BBAN.
	if s >= 2 && isUpper(seg[s-1]) && isUpper(seg[s-2]) && (s < 3 || !isAlnum(seg[s-3])) && len(dg) >= 2 {
		d.iban(s - 2)
	}
	if s < 1 || !isAlpha(seg[s-1]) {
		return
	}
	// Single letter prefix: US passport (C + 8 digits), NIE (X/Y/Z + 7 + letter), DL.
	if s == 1 || !isAlpha(seg[s-2]) {
		l := seg[s-1]
		if s >= 2 && isAlnum(seg[s-2]) {
			return
		}
		if seps == 0 && len(dg) == 8 && isUpper(l) && d.near(idUSPassport, s-1, end) {
			d.hit(idUSPassport, s-1, end)
		}
		if seps == 0 && len(dg) == 7 && (l == 'X' || l == 'Y' || l == 'Z') && end < len(seg) && isUpper(seg[end]) && (end+1 == len(seg) || !isAlnum(seg[end+1])) {
			if nieValid(l, dg, seg[end]) && d.near(idSpainNIE, s-1, end+1) {
				d.hit(idSpainNIE, s-1, end+1)
			}
		}
		if seps == 0 && len(dg) >= 6 && len(dg) <= 12 && isUpper(l) && (end == len(seg) || !isAlnum(seg[end])) && d.near(idDL, s-1, end) {
			d.hit(idDL, s-1, end)
		}
		return
	}
	// Two-letter prefix: DEA (two letters + 7 digits), NINO (two letters + 6 digits + A-D).
	if s >= 3 && isAlnum(seg[s-3]) {
		return
	}
	a, b := seg[s-2], seg[s-1]
	if seps == 0 && len(dg) == 7 && isUpper(a) && (isUpper(b) || b == '9') && (end == len(seg) || !isAlnum(seg[end])) && dea(dg) && d.near(idDEA, s-2, end) {
		d.hit(idDEA, s-2, end)
	}
	if len(dg) == 6 && isUpper(a) && isUpper(b) {
		e := end
		if e < len(seg) && seg[e] == ' ' {
			e++
		}
		if e < len(seg) && seg[e] >= 'A' && seg[e] <= 'D' && (e+1 == len(seg) || !isAlnum(seg[e+1])) && ninoPrefix(a, b) && d.near(idNINO, s-2, e+1) {
			d.hit(idNINO, s-2, e+1)
		}
	}
}

// ninoSpaced: "AB 12 34 56 C", the digits at seg[s:end].
func (d *detector) ninoSpaced(s, end int) {
	seg := d.seg
	if s < 3 || seg[s-1] != ' ' || !isUpper(seg[s-2]) || !isUpper(seg[s-3]) || (s > 3 && isAlnum(seg[s-4])) {
		return
	}
	if !ninoPrefix(seg[s-3], seg[s-2]) || end+2 > len(seg) || seg[end] != ' ' || seg[end+1] < 'A' || seg[end+1] > 'D' || (end+2 < len(seg) && isAlnum(seg[end+2])) {
		return
	}
	if d.near(idNINO, s-3, end+2) {
		d.hit(idNINO, s-3, end+2)
	}
}

// letterSuffixed handles numbers glued to letters on the right: Spain DNI,
// HICN, MBI.
func (d *detector) letterSuffixed(s, end int, dg []byte, seps int, after byte) {
	seg := d.seg
	tail := end + 1
	for tail < len(seg) && isAlnum(seg[tail]) {
		tail++
	}
	if seps == 0 && len(dg) == 8 && tail == end+1 && isUpper(after) && dniLetter(dg) == after && d.near(idSpainDNI, s, tail) {
		d.hit(idSpainDNI, s, tail)
	}
	if seps == 0 && len(dg) == 9 && isUpper(after) && tail-end <= 2 && ssnValid(dg) && d.near(idHICN, s, tail) {
		d.hit(idHICN, s, tail)
	}
	if len(dg) == 1 && dg[0] != '0' && d.on(idMBI) {
		if e, ok := mbi(seg, s); ok && d.near(idMBI, s, e) {
			d.hit(idMBI, s, e)
		}
	}
}

// mbi parses a Medicare Beneficiary Identifier at seg[s:]: C A AN N A AN N A A N N
// (letters exclude S, L, O, I, B, Z), optionally dashed 4-3-4.
func mbi(seg []byte, s int) (int, bool) {
	const kinds = "CAXNAXNAANN" // C: 1-9, A: letter, X: letter or digit, N: digit
	i, k := s, 0
	for k < len(kinds) {
		if i >= len(seg) {
			return 0, false
		}
		c := seg[i]
		if (k == 4 || k == 7) && c == '-' {
			i++
			continue
		}
		ok := false
		switch kinds[k] {
		case 'C':
			ok = c >= '1' && c <= '9'
		case 'N':
			ok = isDigit(c)
		case 'A':
			ok = mbiLetter(c)
		case 'X':
			ok = isDigit(c) || mbiLetter(c)
		}
		if !ok {
			return 0, false
		}
		i++
		k++
	}
	if i < len(seg) && isAlnum(seg[i]) {
		return 0, false
	}
	return i, true
}

func mbiLetter(c byte) bool {
	return isUpper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z'
}

// iban parses an IBAN starting at seg[s] (the country code) and emits it.
func (d *detector) iban(s int) (int, bool) {
	seg := d.seg
	info, ok := ibanByCode[[2]byte{seg[s], seg[s+1]}]
	if !ok || !d.e.on[info[0]] {
		return 0, false
	}
	want := info[1]
	var b [34]byte
	n := 0
	i := s
	for i < len(seg) && n < want {
		c := seg[i]
		if isAlnum(c) {
			if isLower(c) {
				return 0, false
			}
			b[n] = c
			n++
			i++
			continue
		}
		if (c == ' ' || c == '-') && n%4 == 0 && n > 0 && i+1 < len(seg) && isAlnum(seg[i+1]) {
			i++
			continue
		}
		break
	}
	if n != want || (i < len(seg) && isAlnum(seg[i])) {
		return 0, false
	}
	if !mod97(b[:n]) {
		return 0, false
	}
	d.hit(info[0], s, i)
	return i, true
}

// phone checks phone shapes; a number without a country code needs a keyword.
func (d *detector) phone(s, end int, dg []byte, before byte) {
	seg := d.seg
	cc := false
	st := s
	if before == '(' {
		st = s - 1
		if st > 0 && seg[st-1] == '+' {
			st--
			cc = true
		}
	} else if before == '+' {
		st = s - 1
		cc = true
	}
	n := len(dg)
	if !cc && n == 11 && dg[0] == '1' {
		cc = true // 1-800-555-0199
	}
	if !cc && n != 10 {
		return
	}
	if cc && (n < 10 || n > 13) {
		return
	}
	if !cc && (dg[0] < '2' || dg[3] < '2') {
		return // NANP area and exchange codes start 2-9
	}
	if cc || d.near(idPhone, st, end) {
		d.hit(idPhone, st, end)
	}
}

var reAddress = regexp.MustCompile(`\b\d{1,6}(?: [A-Z][a-z]+| [A-Z]\.?| \d{1,3}(?:st|nd|rd|th)){1,4} (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy)\.?(?:,? (?:Apt|Suite|Unit|#) ?\w+)?,? (?:[A-Z][a-z]+ ?){1,3},? (?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY]) \d{5}(?:-\d{4})?$`)

// address: a US street address ending in "ST 12345" (the ZIP at seg[s:end]).
func (d *detector) address(s, end int) {
	seg := d.seg
	if s < 4 || seg[s-1] != ' ' || !isUpper(seg[s-2]) || !isUpper(seg[s-3]) {
		return
	}
	if end < len(seg) && seg[end] == '-' && end+5 <= len(seg) {
		end += 5
	}
	a := s - 160
	if a < 0 {
		a = 0
	}
	if i := bytes.LastIndexByte(seg[a:s], '\n'); i >= 0 {
		a += i + 1
	}
	if m := reAddress.FindIndex(seg[a:end]); m != nil {
		d.hit(idAddress, a+m[0], a+m[1])
	}
}

// date checks numeric date shapes for DATE_OF_BIRTH and CREDIT_CARD_EXPIRATION.
func (d *detector) date(s, end int, dg []byte, seps int, sep byte) {
	if sep == '*' || seps < 1 || seps > 2 {
		return
	}
	// Split on the separator without allocating.
	var parts [3][]byte
	np := 0
	st := s
	for i := s; i <= end; i++ {
		if i == end || d.seg[i] == sep {
			if np == 3 {
				return
			}
			parts[np] = d.seg[st:i]
			np++
			st = i + 1
		}
	}
	num := func(b []byte) int {
		n := 0
		for _, c := range b {
			if !isDigit(c) {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	if np == 2 {
		// MM/YY or MM/YYYY: card expiry.
		m, y := num(parts[0]), num(parts[1])
		if len(parts[0]) <= 2 && m >= 1 && m <= 12 && (len(parts[1]) == 2 || len(parts[1]) == 4 && y >= 2000 && y <= 2099) && d.near(idCardExp, s, end) {
			d.hit(idCardExp, s, end)
		}
		return
	}
	if np != 3 || !d.on(idDOB) {
		return
	}
	a, b, c := num(parts[0]), num(parts[1]), num(parts[2])
	la, lc := len(parts[0]), len(parts[2])
	ok := false
	switch {
	case la == 4 && len(parts[1]) <= 2 && lc <= 2: // YYYY-MM-DD
		ok = a >= 1900 && a <= 2030 && b >= 1 && b <= 12 && c >= 1 && c <= 31
	case la <= 2 && len(parts[1]) <= 2 && (lc == 4 || lc == 2): // MM/DD/YYYY or DD/MM/YYYY
		ok = a >= 1 && b >= 1 && (a <= 12 && b <= 31 || b <= 12 && a <= 31)
		if lc == 4 {
			ok = ok && c >= 1900 && c <= 2030
		}
	}
	if ok && d.near(idDOB, s, end) {
		d.hit(idDOB, s, end)
	}
}

var (
	reMonthDate = regexp.MustCompile(`(?i)(?:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? |\b\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,? )$`)
	reMonthExp  = regexp.MustCompile(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? $`)
)

// monthNameDate: "March 3, 1985" / "3 March 1985" ending at the year seg[s:end].
func (d *detector) monthNameDate(s, end int) {
	a := s - 20
	if a < 0 {
		a = 0
	}
	if m := reMonthDate.FindIndex(d.seg[a:s]); m != nil && d.near(idDOB, a+m[0], end) {
		d.hit(idDOB, a+m[0], end)
	}
}

// monthNameExp: "Feb 2026" with an expiry keyword.
func (d *detector) monthNameExp(s, end int) {
	a := s - 12
	if a < 0 {
		a = 0
	}
	if m := reMonthExp.FindIndex(d.seg[a:s]); m != nil {
		d.hit(idCardExp, a+m[0], end)
	}
}

// emails finds addresses around each '@'.
func (d *detector) emails() {
	seg := d.seg
	from := 0
	for {
		k := bytes.IndexByte(seg[from:], '@')
		if k < 0 {
			return
		}
		at := from + k
		from = at + 1
		s := at
		for s > 0 && emailLocal(seg[s-1]) {
			s--
		}
		for s < at && seg[s] == '.' {
			s++
		}
		if s == at {
			continue
		}
		e := at + 1
		lastDot := -1
		for e < len(seg) && (isAlnum(seg[e]) || seg[e] == '-' || seg[e] == '.') {
			if seg[e] == '.' {
				lastDot = e
			}
			e++
		}
		for e > at+1 && seg[e-1] == '.' {
			e--
			lastDot = bytes.LastIndexByte(seg[at+1:e], '.')
			if lastDot >= 0 {
				lastDot += at + 1
			}
		}
		if lastDot <= at+1 || e-lastDot-1 < 2 {
			continue
		}
		tldOK := true
		for _, c := range seg[lastDot+1 : e] {
			if !isAlpha(c) {
				tldOK = false
			}
		}
		if tldOK {
			d.hit(idEmail, s, e)
			from = e
		}
	}
}

func emailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// privateKeys finds PEM/OpenSSH/PGP/PuTTY headers.
func (d *detector) privateKeys() {
	seg := d.seg
	from := 0
	for {
		k := bytes.Index(seg[from:], []byte("-----BEGIN "))
		if k < 0 {
			break
		}
		s := from + k
		rest := seg[s+11:]
		from = s + 11
		e := bytes.Index(rest, []byte("-----"))
		if e < 0 || e > 40 {
			continue
		}
		label := rest[:e]
		end := s + 11 + e + 5
		switch {
		case string(label) == "OPENSSH PRIVATE KEY":
			d.hit(idOpenSSH, s, end)
		case string(label) == "PGP PRIVATE KEY BLOCK":
			d.hit(idPGP, s, end)
		case bytes.HasSuffix(label, []byte("PRIVATE KEY")):
			d.hit(idPKCS, s, end)
		}
	}
}

var jwtHeader = []byte("eyJ")

// anchors finds the literal-led credentials.
func (d *detector) anchors() {
	seg := d.seg
	if d.on(idStripe) && d.mask&mStripe != 0 {
		for _, p := range [][]byte{[]byte("sk_live_"), []byte("rk_live_")} {
			d.each(p, func(s int) {
				e := s + len(p)
				for e < len(seg) && isAlnum(seg[e]) {
					e++
				}
				if e-s-len(p) >= 24 && (s == 0 || !isAlnum(seg[s-1])) {
					d.hit(idStripe, s, e)
				}
			})
		}
	}
	if d.on(idJWT) && d.mask&mJWT != 0 {
		d.each(jwtHeader, func(s int) {
			if s > 0 && (isAlnum(seg[s-1]) || seg[s-1] == '-' || seg[s-1] == '_') {
				return
			}
			if e, ok := jwt(seg, s); ok {
				d.hit(idJWT, s, e)
			}
		})
	}
	if d.on(idGCP) && d.mask&mGCP != 0 {
		d.each([]byte("AIza"), func(s int) {
			e := s + 4
			for e < len(seg) && (isAlnum(seg[e]) || seg[e] == '_' || seg[e] == '-') {
				e++
			}
			if e-s == 39 && d.near(idGCP, s, e) {
				d.hit(idGCP, s, e)
			}
		})
	}
	if d.on(idBasicAuth) && d.mask&mBasic != 0 {
		d.each([]byte("Basic "), func(s int) {
			ls := bytes.LastIndexByte(seg[:s], '\n') + 1
			h := bytes.ToLower(bytes.TrimSpace(seg[ls:s]))
			if !bytes.HasSuffix(h, []byte("authorization:")) {
				return
			}
			e := s + 6
			for e < len(seg) && (isAlnum(seg[e]) || seg[e] == '+' || seg[e] == '/' || seg[e] == '=') {
				e++
			}
			v, err := base64.StdEncoding.DecodeString(string(seg[s+6 : e]))
			if err != nil || bytes.IndexByte(v, ':') <= 0 {
				return
			}
			d.hit(idBasicAuth, ls+bytes.IndexByte(seg[ls:s], bytes.TrimSpace(seg[ls:s])[0]), e)
		})
	}
	if d.on(idPuTTY) && d.mask&mPuTTY != 0 {
		d.each([]byte("PuTTY-User-Key-File-"), func(s int) {
			e := bytes.IndexByte(seg[s:], '\n')
			if e < 0 {
				e = len(seg) - s
			}
			if bytes.Contains(seg[s:min(len(seg), s+400)], []byte("Encryption:")) {
				d.hit(idPuTTY, s, s+e)
			}
		})
	}
	if d.on(idCookie) && d.mask&mCookie != 0 {
		for _, p := range [][]byte{[]byte("Cookie: "), []byte("cookie: ")} {
			d.each(p, func(s int) {
				st := s
				if s >= 4 && bytes.EqualFold(seg[s-4:s], []byte("set-")) {
					st = s - 4
				}
				if st > 0 && seg[st-1] != '\n' && seg[st-1] != ' ' && seg[st-1] != '\t' && seg[st-1] != '"' {
					return
				}
				e := s + len(p)
				eq := false
				for e < len(seg) && seg[e] != '\n' && seg[e] != '\r' && seg[e] != '"' {
					if seg[e] == '=' {
						eq = true
					}
					e++
				}
				if eq {
					d.hit(idCookie, st, e)
				}
			})
		}
	}
	if d.on(idAWS) && (d.mask&mAWS != 0 || d.ctxKW != nil && d.ctxKW[idAWS]) {
		d.awsSecrets()
	}
}

// each calls f at every occurrence of p in the segment.
func (d *detector) each(p []byte, f func(s int)) {
	from := 0
	for {
		k := bytes.Index(d.seg[from:], p)
		if k < 0 {
			return
		}
		f(from + k)
		from += k + len(p)
	}
}

var awsAnchors = [][]byte{[]byte("ecret"), []byte("ECRET"), []byte("redential"), []byte("REDENTIAL")}

// awsSecrets finds 40-character secret keys after one of AWS_CREDENTIALS's
// keywords, or anywhere in a value whose column or path names one.
func (d *detector) awsSecrets() {
	seg := d.seg
	if d.ctxKW != nil && d.ctxKW[idAWS] && len(seg) < 200 {
		d.awsTokens(0, len(seg))
		return
	}
	last := -1
	for _, a := range awsAnchors {
		d.each(a, func(s int) {
			if s < last || !d.near(idAWS, s, s+len(a)) {
				return
			}
			e := min(len(seg), s+80)
			d.awsTokens(s, e)
			last = e
		})
	}
}

func (d *detector) awsTokens(a, b int) {
	seg := d.seg
	for i := a; i < b; i++ {
		if !awsChar(seg[i]) || (i > 0 && awsChar(seg[i-1])) {
			continue
		}
		j := i
		for j < len(seg) && awsChar(seg[j]) {
			j++
		}
		if j-i == 40 && mixed(seg[i:j]) && !bytes.HasSuffix(seg[i:j], []byte("EXAMPLEKEY")) {
			d.hit(idAWS, i, j)
		}
		i = j
	}
}

func awsChar(c byte) bool { return isAlnum(c) || c == '/' || c == '+' }

func mixed(b []byte) bool {
	var u, l, n bool
	for _, c := range b {
		switch {
		case isUpper(c):
			u = true
		case isLower(c):
			l = true
		default:
			n = true
		}
	}
	return u && l && n
}

// jwt parses header.payload[.signature] in base64url with a JSON header naming "alg".
func jwt(seg []byte, s int) (int, bool) {
	var dots [2]int
	nd := 0
	e := s
	for e < len(seg) {
		c := seg[e]
		if isAlnum(c) || c == '-' || c == '_' {
			e++
			continue
		}
		if c == '.' && nd < 2 {
			dots[nd] = e
			nd++
			e++
			continue
		}
		break
	}
	if nd < 2 {
		if nd == 1 && e > dots[0]+1 {
			return 0, false
		}
		return 0, false
	}
	h, err := base64.RawURLEncoding.DecodeString(string(seg[s:dots[0]]))
	if err != nil || !bytes.Contains(h, []byte(`"alg"`)) {
		return 0, false
	}
	if dots[1]-dots[0] < 4 {
		return 0, false
	}
	return e, true
}

// customID applies one custom identifier: regex, keywords before the
// match within the maximum distance (end of keyword to end of match), and
// ignore words.
func (d *detector) customID(c *customDef) {
	seg := d.seg
	check := func(s, e int) {
		m := seg[s:e]
		for _, w := range c.ignore {
			if bytes.Contains(m, []byte(w)) {
				return
			}
		}
		d.hit(c.idx, s, e)
	}
	if len(c.kws) == 0 {
		for _, m := range c.re.FindAllIndex(seg, -1) {
			check(m[0], m[1])
		}
		return
	}
	if d.kctx != "" {
		for _, k := range c.kws {
			if containsStr(d.kctx, norm(k)) {
				for _, m := range c.re.FindAllIndex(seg, -1) {
					check(m[0], m[1])
				}
				return
			}
		}
	}
	low := asciiLower(seg) // same length as seg, so offsets carry over
	seen := map[int]bool{}
	for _, k := range c.kws {
		kb := []byte(k)
		from := 0
		for {
			i := bytes.Index(low[from:], kb)
			if i < 0 {
				break
			}
			ke := from + i + len(kb)
			from = ke
			win := min(len(seg), ke+c.dist)
			for _, m := range c.re.FindAllIndex(seg[ke:win], -1) {
				if !seen[ke+m[0]] {
					seen[ke+m[0]] = true
					check(ke+m[0], ke+m[1])
				}
			}
		}
	}
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if isUpper(c) {
			c += 32
		}
		out[i] = c
	}
	return out
}
