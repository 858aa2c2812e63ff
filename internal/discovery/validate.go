package discovery

// Checksums and number rules of the managed identifiers. Inputs are ASCII
// digit strings already extracted from the token.

func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if dbl {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		dbl = !dbl
	}
	return sum%10 == 0
}

func prefixIn(d []byte, lo, hi int, n int) bool {
	if len(d) < n {
		return false
	}
	v := 0
	for _, c := range d[:n] {
		v = v*10 + int(c-'0')
	}
	return v >= lo && v <= hi
}

// cardPrefix checks the issuer identification number against the length.
func cardPrefix(d []byte) bool {
	n := len(d)
	switch {
	case d[0] == '4': // Visa, Visa Electron
		return n == 13 || n == 16 || n == 19
	case prefixIn(d, 51, 55, 2) || prefixIn(d, 2221, 2720, 4): // Mastercard
		return n == 16
	case prefixIn(d, 34, 34, 2) || prefixIn(d, 37, 37, 2): // Amex
		return n == 15
	case prefixIn(d, 6011, 6011, 4) || prefixIn(d, 644, 649, 3) || prefixIn(d, 65, 65, 2) || prefixIn(d, 622126, 622925, 6): // Discover
		return n >= 16 && n <= 19
	case prefixIn(d, 3528, 3589, 4): // JCB
		return n >= 16 && n <= 19
	case prefixIn(d, 300, 305, 3) || prefixIn(d, 36, 36, 2) || prefixIn(d, 38, 39, 2): // Diners
		return n >= 14 && n <= 19
	case prefixIn(d, 62, 62, 2): // UnionPay
		return n >= 16 && n <= 19
	case prefixIn(d, 5019, 5019, 4) || prefixIn(d, 4571, 4571, 4): // Dankort
		return n == 16
	}
	return false
}

// testCard lists issuers' published test numbers, never reported.
var testCard = map[string]bool{
	"4111111111111111": true, "4012888888881881": true, "4222222222222": true, "4242424242424242": true,
	"5555555555554444": true, "5105105105105100": true, "378282246310005": true, "371449635398431": true,
	"378734493671000": true, "6011111111111117": true, "6011000990139424": true, "30569309025904": true,
	"38520000023237": true, "3530111333300000": true, "3566002020360505": true, "4000056655665556": true,
	"5200828282828210": true, "2223003122003222": true, "6200000000000005": true, "4000000000000002": true,
}

// ssnValid applies the SSA's rules: area not 000, 666 or 900-999; group not
// 00; serial not 0000; and not a well-known advertising number.
func ssnValid(d []byte) bool {
	area := string(d[:3])
	if area == "000" || area == "666" || d[0] == '9' || string(d[3:5]) == "00" || string(d[5:9]) == "0000" {
		return false
	}
	switch string(d) {
	case "078051120", "219099999", "123456789":
		return false
	}
	return true
}

// aba: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 mod 10, first two digits a Federal Reserve prefix.
func aba(d []byte) bool {
	v := func(i int) int { return int(d[i] - '0') }
	p := v(0)*10 + v(1)
	if !(p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80) {
		return false
	}
	if string(d) == "000000000" {
		return false
	}
	return (3*(v(0)+v(3)+v(6))+7*(v(1)+v(4)+v(7))+(v(2)+v(5)+v(8)))%10 == 0
}

// nhs: mod-11 check digit with weights 10..2.
func nhs(d []byte) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	c := 11 - sum%11
	if c == 11 {
		c = 0
	}
	return c != 10 && c == int(d[9]-'0')
}

// npi: Luhn over "80840" + the first nine digits.
func npi(d []byte) bool {
	if d[0] != '1' && d[0] != '2' {
		return false
	}
	b := append([]byte("80840"), d...)
	return luhn(b)
}

// insee: France's NIR: sex 1/2, key = 97 - (first 13 digits mod 97).
func insee(d []byte) bool {
	if d[0] != '1' && d[0] != '2' {
		return false
	}
	m := 0
	for _, c := range d[:13] {
		m = (m*10 + int(c-'0')) % 97
	}
	k := int(d[13]-'0')*10 + int(d[14]-'0')
	return k == 97-m
}

// dea: (d1+d3+d5) + 2·(d2+d4+d6) ≡ d7 mod 10.
func dea(d []byte) bool {
	v := func(i int) int { return int(d[i] - '0') }
	return (v(0)+v(2)+v(4)+2*(v(1)+v(3)+v(5)))%10 == v(6)
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

func dniLetter(d []byte) byte {
	n := 0
	for _, c := range d {
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return 0
	}
	return dniLetters[n%23]
}

func nieValid(l byte, d []byte, check byte) bool {
	b := append([]byte{'0' + (l - 'X')}, d...)
	return dniLetter(b) == check
}

// ninoPrefix: HMRC's rules on the two prefix letters.
func ninoPrefix(a, b byte) bool {
	bad := func(c byte) bool { return c == 'D' || c == 'F' || c == 'I' || c == 'Q' || c == 'U' || c == 'V' }
	if bad(a) || bad(b) || b == 'O' {
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	return true
}

// mod97: ISO 13616 check (move the first four characters to the end, letters → 10..35).
func mod97(b []byte) bool {
	m := 0
	add := func(c byte) {
		if isDigit(c) {
			m = (m*10 + int(c-'0')) % 97
		} else {
			m = (m*100 + int(c-'A') + 10) % 97
		}
	}
	for _, c := range b[4:] {
		add(c)
	}
	for _, c := range b[:4] {
		add(c)
	}
	return m == 1
}

var (
	verD = [10][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1}, {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}
	verP = [8][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1}, {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}}
)

// verhoeff validates Aadhaar's check digit.
func verhoeff(d []byte) bool {
	c := 0
	for i := 0; i < len(d); i++ {
		c = verD[c][verP[i%8][int(d[len(d)-1-i]-'0')]]
	}
	return c == 0
}

func isDigit(c byte) bool { return c-'0' < 10 }
func isUpper(c byte) bool { return c-'A' < 26 }
func isLower(c byte) bool { return c-'a' < 26 }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
