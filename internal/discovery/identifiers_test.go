package discovery

import (
	"context"
	"strings"
	"testing"
)

// Check-digit helpers used to build valid test values.
func withLuhn(prefix string) string {
	for c := byte('0'); c <= '9'; c++ {
		if s := prefix + string(c); luhn([]byte(s)) {
			return s
		}
	}
	panic("unreachable")
}

func withVerhoeff(prefix string) string {
	for c := byte('0'); c <= '9'; c++ {
		if s := prefix + string(c); verhoeff([]byte(s)) {
			return s
		}
	}
	panic("unreachable")
}

func scanString(t testing.TB, e *Engine, name, s string) *Result {
	t.Helper()
	r, err := e.Scan(context.Background(), strings.NewReader(s), name, int64(len(s)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func found(r *Result, id string) *Detection {
	for i := range r.Detections {
		if r.Detections[i].Type == id || r.Detections[i].CustomID == id {
			return &r.Detections[i]
		}
	}
	return nil
}

func TestManagedIdentifiers(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		text string
		want bool
	}{
		// Credentials
		{"AWS_CREDENTIALS", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Hw1Tm3k", true},
		{"AWS_CREDENTIALS", "secret key: Zx9+lQ2mN7pR4sT1uV8wY3zA6bC0dE5fG/hJ2kL9", true},
		{"AWS_CREDENTIALS", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false}, // documentation key
		{"AWS_CREDENTIALS", "build hash wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Hw1Tm3k done", false},         // no keyword
		{"AWS_CREDENTIALS", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Hw1Tm3", false},  // 39 chars
		{"GCP_API_KEY", "X-goog-api-key: AIzaSyD3x9Qw8Zk2LmN4pR7tU1vW5yB6cE0fGhJ", true},
		{"GCP_API_KEY", "token AIzaSyD3x9Qw8Zk2LmN4pR7tU1vW5yB6cE0fGhJ", false},
		{"HTTP_BASIC_AUTH_HEADER", "Authorization: Basic dXNlcjpwYXNzd29yZA==", true},
		{"HTTP_BASIC_AUTH_HEADER", "Authorization: Basic notbase64!!", false},
		{"HTTP_BASIC_AUTH_HEADER", "the Basic dXNlcjpwYXNzd29yZA== plan", false},
		{"JSON_WEB_TOKEN", "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", true},
		{"JSON_WEB_TOKEN", "token=eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.abc", false}, // header lacks alg
		{"OPENSSH_PRIVATE_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", true},
		{"PGP_PRIVATE_KEY", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n", true},
		{"PGP_PRIVATE_KEY", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n", false},
		{"PKCS", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", true},
		{"PKCS", "-----BEGIN ENCRYPTED PRIVATE KEY-----", true},
		{"PKCS", "-----BEGIN CERTIFICATE-----", false},
		{"PUTTY_PRIVATE_KEY", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\n", true},
		{"PUTTY_PRIVATE_KEY", "PuTTY-User-Key-File-3 is a format", false},
		{"STRIPE_CREDENTIALS", "STRIPE=sk_live_51HxQ2mK8vP3zR9tY4wB7nC1d", true},
		{"STRIPE_CREDENTIALS", "STRIPE=sk_test_51HxQ2mK8vP3zR9tY4wB7nC1d", false},
		{"STRIPE_CREDENTIALS", "STRIPE=sk_live_short", false},
		// Financial
		{"CREDIT_CARD_NUMBER", "credit card: " + withLuhn("453201511283036"), true},
		{"CREDIT_CARD_NUMBER", "visa 4532 0151 1283 0366", true},
		{"CREDIT_CARD_NUMBER", "card 4111111111111111", false}, // issuer test number
		{"CREDIT_CARD_NUMBER", "card 4532015112830367", false}, // Luhn fails
		{"CREDIT_CARD_NUMBER", "card 9532015112830366", false}, // no issuer prefix
		{"CREDIT_CARD_NUMBER", "card 453201511283036", false},  // Visa with 15 digits
		{"CREDIT_CARD_NUMBER_(NO_KEYWORD)", "ref " + withLuhn("523456789012345"), true},
		{"CREDIT_CARD_NUMBER_(NO_KEYWORD)", "ref 5105105105105100", false}, // test number
		{"CREDIT_CARD_EXPIRATION", "expiry 09/27", true},
		{"CREDIT_CARD_EXPIRATION", "expiration date: Feb 2027", true},
		{"CREDIT_CARD_EXPIRATION", "ratio 09/27", false},
		{"CREDIT_CARD_EXPIRATION", "expiry 13/27", false},
		{"CREDIT_CARD_SECURITY_CODE", "CVV: 123", true},
		{"CREDIT_CARD_SECURITY_CODE", "room 123", false},
		{"USA_ABA_ROUTING_NUMBER", "routing number 021000021", true},
		{"USA_ABA_ROUTING_NUMBER", "routing number 021000022", false}, // checksum
		{"USA_ABA_ROUTING_NUMBER", "order 021000021", false},          // no keyword
		{"BANK_ACCOUNT_NUMBER", "checking account 000123456789", true},
		{"BANK_ACCOUNT_NUMBER", "order 000123456789", false},
		{"UK_BANK_ACCOUNT_NUMBER", "IBAN GB82 WEST 1234 5698 7654 32", true},
		{"GERMANY_BANK_ACCOUNT_NUMBER", "DE89370400440532013000", true},
		{"GERMANY_BANK_ACCOUNT_NUMBER", "DE89370400440532013001", false}, // mod-97
		{"GERMANY_BANK_ACCOUNT_NUMBER", "DE8937040044053201300", false},  // length
		{"FRANCE_BANK_ACCOUNT_NUMBER", "FR1420041010050500013M02606", true},
		// Personal
		{"EMAIL_ADDRESS", "write to jane.doe+x@mail.example.org today", true},
		{"EMAIL_ADDRESS", "user@localhost", false},
		{"EMAIL_ADDRESS", "price @ 5.00", false},
		{"PHONE_NUMBER", "phone: (415) 555-2671", true},
		{"PHONE_NUMBER", "+1 415 555 2671", true},
		{"PHONE_NUMBER", "+44 20 7946 0958", true},
		{"PHONE_NUMBER", "call 1-800-555-0199", true},
		{"PHONE_NUMBER", "id 415-555-2671", false},     // no keyword, no country code
		{"PHONE_NUMBER", "phone: 015-555-2671", false}, // area code cannot start with 0
		{"USA_SOCIAL_SECURITY_NUMBER", "SSN: 123-45-6788", true},
		{"USA_SOCIAL_SECURITY_NUMBER", "social security number 219 09 9998", true},
		{"USA_SOCIAL_SECURITY_NUMBER", "SSN: 666-45-6788", false},
		{"USA_SOCIAL_SECURITY_NUMBER", "SSN: 123-00-6788", false},
		{"USA_SOCIAL_SECURITY_NUMBER", "SSN: 123-45-0000", false},
		{"USA_SOCIAL_SECURITY_NUMBER", "part 123-45-6788", false},
		{"USA_SOCIAL_SECURITY_NUMBER", "SSN: 123-45-67889", false},
		{"USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "ITIN 912-78-1234", true},
		{"USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "ITIN 912-58-1234", false},
		{"CANADA_SOCIAL_INSURANCE_NUMBER", "SIN: " + spaced(withLuhn("13045428")), true},
		{"CANADA_SOCIAL_INSURANCE_NUMBER", "SIN: 046 454 286", false}, // area 0 is unassigned
		{"CANADA_SOCIAL_INSURANCE_NUMBER", "SIN: 046 454 287", false},
		{"UK_NATIONAL_INSURANCE_NUMBER", "NINO AB123456C", true},
		{"UK_NATIONAL_INSURANCE_NUMBER", "national insurance number: AB 12 34 56 C.", true},
		{"UK_NATIONAL_INSURANCE_NUMBER", "national insurance number: AB 12 34 56 E.", false},
		{"UK_NATIONAL_INSURANCE_NUMBER", "NINO QQ123456C", false},
		{"UK_NATIONAL_INSURANCE_NUMBER", "NINO AB123456E", false},
		{"USA_PASSPORT_NUMBER", "passport no. 912803456", true},
		{"USA_PASSPORT_NUMBER", "passport C03005988", true},
		{"USA_PASSPORT_NUMBER", "ticket 912803456", false},
		{"DRIVERS_LICENSE", "driver's license D1234567", true},
		{"DRIVERS_LICENSE", "model D1234567", false},
		{"DATE_OF_BIRTH", "DOB: 03/15/1985", true},
		{"DATE_OF_BIRTH", "date of birth 1985-03-15", true},
		{"DATE_OF_BIRTH", "born March 3, 1985", true},
		{"DATE_OF_BIRTH", "invoice 03/15/1985", false},
		{"DATE_OF_BIRTH", "DOB: 13/32/1985", false},
		{"ADDRESS", "ship to 123 Main Street, Springfield, IL 62704", true},
		{"ADDRESS", "ship to Springfield 62704", false},
		{"HTTP_COOKIE", "Cookie: session=abc123; theme=dark", true},
		{"HTTP_COOKIE", "Set-Cookie: id=a3fWa; Secure", true},
		{"HTTP_COOKIE", "the Cookie: monster", false},
		{"FRANCE_NATIONAL_IDENTIFICATION_NUMBER", "INSEE " + inseeOf("2841276451089"), true},
		{"FRANCE_NATIONAL_IDENTIFICATION_NUMBER", "INSEE 284127645108900", false},
		{"SPAIN_DNI_NUMBER", "DNI 12345678Z", true},
		{"SPAIN_DNI_NUMBER", "DNI 12345678A", false},
		{"SPAIN_NIE_NUMBER", "NIE X1234567L", true},
		{"SPAIN_NIE_NUMBER", "NIE X1234567A", false},
		{"INDIA_AADHAAR_NUMBER", "Aadhaar " + withVerhoeff("23456789012"), true},
		{"INDIA_AADHAAR_NUMBER", "Aadhaar 234567890120", verhoeff([]byte("234567890120"))},
		{"ARGENTINA_TARJETA_SUBE", "tarjeta SUBE " + withLuhn("606126000000000"), true},
		// Health
		{"UK_NHS_NUMBER", "NHS number 943 476 5919", true},
		{"UK_NHS_NUMBER", "NHS number 943 476 5918", false},
		{"USA_MEDICARE_BENEFICIARY_IDENTIFIER", "Medicare MBI 1EG4-TE5-MK73", true},
		{"USA_MEDICARE_BENEFICIARY_IDENTIFIER", "Medicare MBI 1EG4-TS5-MK73", false}, // S is excluded
		{"USA_HEALTH_INSURANCE_CLAIM_NUMBER", "Medicare HICN 123456788A", true},
		{"USA_HEALTH_INSURANCE_CLAIM_NUMBER", "part 123456788A", false},
		{"US_DRUG_ENFORCEMENT_AGENCY_NUMBER", "DEA number AB1234563", true},
		{"US_DRUG_ENFORCEMENT_AGENCY_NUMBER", "DEA number AB1234564", false},
		{"USA_NATIONAL_PROVIDER_IDENTIFIER", "NPI 1234567893", true},
		{"USA_NATIONAL_PROVIDER_IDENTIFIER", "NPI 1234567894", false},
	}
	for _, tc := range tests {
		t.Run(tc.id+"/"+tc.text, func(t *testing.T) {
			r := scanString(t, e, "t.txt", tc.text)
			if got := found(r, tc.id) != nil; got != tc.want {
				t.Errorf("%q: found %s = %v, want %v (detections %+v)", tc.text, tc.id, got, tc.want, r.Detections)
			}
		})
	}
}

func spaced(s string) string { return s[:3] + " " + s[3:6] + " " + s[6:] }

func inseeOf(p string) string {
	m := 0
	for _, c := range p {
		m = (m*10 + int(c-'0')) % 97
	}
	k := 97 - m
	return p + string(rune('0'+k/10)) + string(rune('0'+k%10))
}

func TestEveryManagedIdentifierListed(t *testing.T) {
	ids := ManagedIdentifiers()
	if len(ids) != len(managedTable) {
		t.Fatalf("%d ids, table has %d", len(ids), len(managedTable))
	}
	seen := map[string]bool{}
	for _, m := range ids {
		if seen[m.ID] {
			t.Errorf("duplicate %s", m.ID)
		}
		seen[m.ID] = true
		if m.Category != CategoryCredentials && m.Category != CategoryFinancial && m.Category != CategoryPersonal {
			t.Errorf("%s: category %s", m.ID, m.Category)
		}
	}
}
