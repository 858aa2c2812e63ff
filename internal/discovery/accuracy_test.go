package discovery

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// The accuracy test generates a labelled corpus: realistic documents in
// every supported format with known planted values (each with the label a
// person would write next to it) and decoys (failed checksums, wrong
// lengths, test numbers, values with no keyword), then compares what the
// engine reports with the labels.

type planted struct {
	id, label, value string
}

type gen struct{ r *rand.Rand }

func (g gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g gen) ssn() string {
	for {
		s := fmt.Sprintf("%03d%02d%04d", 1+g.r.IntN(665), 1+g.r.IntN(99), 1+g.r.IntN(9999))
		if ssnValid([]byte(s)) {
			return s[:3] + "-" + s[3:5] + "-" + s[5:]
		}
	}
}

func (g gen) card() string {
	p := []string{"4", "51", "52", "53", "54", "55"}[g.r.IntN(6)]
	return withLuhn(p + g.digits(15-len(p)))
}

func (g gen) iban() string {
	cc := []struct{ c, l string }{{"DE", "18"}, {"GB", ""}, {"FR", "23"}, {"ES", "20"}, {"NL", ""}}[g.r.IntN(5)]
	var bban string
	switch cc.c {
	case "GB":
		bban = "NWBK" + g.digits(14)
	case "NL":
		bban = "ABNA" + g.digits(10)
	case "FR":
		bban = g.digits(23)
	case "ES":
		bban = g.digits(20)
	default:
		bban = g.digits(18)
	}
	for ck := 2; ck < 99; ck++ {
		s := fmt.Sprintf("%s%02d%s", cc.c, ck, bban)
		if mod97([]byte(s)) {
			return s
		}
	}
	return ""
}

func (g gen) aba() string {
	for {
		s := fmt.Sprintf("%02d", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 21, 22, 26, 31, 32, 61, 63, 71}[g.r.IntN(18)]) + g.digits(7)
		if aba([]byte(s)) {
			return s
		}
	}
}

func (g gen) nhs() string {
	for {
		s := g.digits(10)
		if nhs([]byte(s)) {
			return s[:3] + " " + s[3:6] + " " + s[6:]
		}
	}
}

func (g gen) dea() string {
	for {
		s := g.digits(7)
		if dea([]byte(s)) {
			return string(rune('A'+g.r.IntN(2))) + string(rune('A'+g.r.IntN(26))) + s
		}
	}
}

func (g gen) npi() string {
	for {
		s := "1" + g.digits(9)
		if npi([]byte(s)) {
			return s
		}
	}
}

func (g gen) aws() string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
	for {
		b := make([]byte, 40)
		for i := range b {
			b[i] = a[g.r.IntN(len(a))]
		}
		if mixed(b) {
			return string(b)
		}
	}
}

var (
	firstNames = []string{"Maria", "James", "Aiko", "Lena", "Omar", "Priya", "Tom", "Sofia", "Chen", "Ana"}
	lastNames  = []string{"Garcia", "Smith", "Tanaka", "Novak", "Haddad", "Patel", "Brown", "Rossi", "Wei", "Silva"}
	streets    = []string{"Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Elm Road", "Park Boulevard"}
	cities     = []string{"Springfield, IL", "Portland, OR", "Austin, TX", "Denver, CO", "Boston, MA", "Columbus, OH"}
	fillers    = []string{
		"The quarterly review is scheduled for next week in room 4.",
		"Please confirm the delivery window with the logistics team before Friday.",
		"Revenue grew 12 percent year over year, driven by new contracts.",
		"Ticket 48213 was closed after the server update at 10:45.",
		"Our office will be closed on public holidays; see the calendar.",
		"Invoice total: 1,249.50 EUR, payable within 30 days.",
	}
)

// sample returns one planted value or decoy per call.
func (g gen) sample() (p planted, decoy string) {
	switch g.r.IntN(22) {
	case 0:
		return planted{"USA_SOCIAL_SECURITY_NUMBER", "SSN", g.ssn()}, "reference 666-" + g.digits(2) + "-" + g.digits(4)
	case 1:
		return planted{"CREDIT_CARD_NUMBER", "credit card number", g.card()}, "serial " + g.digits(15) + "9"
	case 2:
		n := firstNames[g.r.IntN(10)]
		return planted{"EMAIL_ADDRESS", "email", strings.ToLower(n) + "." + g.digits(3) + "@example.com"}, "handle @" + strings.ToLower(n)
	case 3:
		return planted{"PHONE_NUMBER", "phone", fmt.Sprintf("(%d) %d-%s", 201+g.r.IntN(700), 201+g.r.IntN(700), g.digits(4))}, "build " + g.digits(3) + "-" + g.digits(3) + "-" + g.digits(4)
	case 4:
		ib := g.iban()
		bad := []byte(ib)
		bad[len(bad)-1] = '0' + (bad[len(bad)-1]-'0'+1)%10
		return planted{ibanID(ib), "IBAN", ib}, "ref " + string(bad)
	case 5:
		return planted{"USA_ABA_ROUTING_NUMBER", "routing number", g.aba()}, "part number " + g.digits(9)
	case 6:
		return planted{"AWS_CREDENTIALS", "aws_secret_access_key", g.aws()}, "checksum " + g.aws()
	case 7:
		return planted{"UK_NHS_NUMBER", "NHS number", g.nhs()}, "extension " + g.digits(3) + " " + g.digits(3)
	case 8:
		return planted{"US_DRUG_ENFORCEMENT_AGENCY_NUMBER", "DEA number", g.dea()}, "model AB" + g.digits(5)
	case 9:
		return planted{"USA_NATIONAL_PROVIDER_IDENTIFIER", "NPI", g.npi()}, "tracking " + g.digits(8)
	case 10:
		return planted{"DATE_OF_BIRTH", "date of birth", fmt.Sprintf("%02d/%02d/%d", 1+g.r.IntN(12), 1+g.r.IntN(28), 1940+g.r.IntN(60))}, fmt.Sprintf("meeting on %02d/%02d/%d", 1+g.r.IntN(12), 1+g.r.IntN(28), 2020+g.r.IntN(5))
	case 11:
		return planted{"USA_PASSPORT_NUMBER", "passport number", fmt.Sprint(1+g.r.IntN(9)) + g.digits(8)}, "order " + g.digits(9)
	case 12:
		return planted{"JSON_WEB_TOKEN", "token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI" + g.digits(8) + "In0.Sfl" + g.digits(20)}, "eyJfoo"
	case 13:
		return planted{"STRIPE_CREDENTIALS", "stripe key", "sk_live_" + g.digits(12) + "abcdEFGHijklMN"}, "sk_test_" + g.digits(24)
	case 14:
		return planted{"ADDRESS", "address", fmt.Sprintf("%d %s, %s %s", 10+g.r.IntN(9000), streets[g.r.IntN(6)], cities[g.r.IntN(6)], "6"+g.digits(4))}, "zip " + g.digits(5)
	case 15:
		return planted{"CANADA_SOCIAL_INSURANCE_NUMBER", "social insurance number", spaced(withLuhn(fmt.Sprint(1+g.r.IntN(7)) + g.digits(7)))}, "lot " + g.digits(3) + " " + g.digits(3) + " " + g.digits(3)
	case 16:
		return planted{"UK_NATIONAL_INSURANCE_NUMBER", "national insurance number", "AB" + g.digits(6) + "C"}, "code QQ" + g.digits(6) + "C"
	case 17:
		return planted{"SPAIN_DNI_NUMBER", "DNI", func() string { d := fmt.Sprint(10000000 + g.r.IntN(89999999)); return d + string(dniLetter([]byte(d))) }()}, "ref " + g.digits(8) + "Q"
	case 18:
		return planted{"INDIA_AADHAAR_NUMBER", "Aadhaar", withVerhoeff(fmt.Sprint(2+g.r.IntN(8)) + g.digits(10))}, "id " + g.digits(12)
	case 19:
		return planted{"PKCS", "key", "-----BEGIN RSA PRIVATE KEY-----"}, "-----BEGIN CERTIFICATE-----"
	case 20:
		return planted{"USA_MEDICARE_BENEFICIARY_IDENTIFIER", "Medicare MBI", fmt.Sprintf("%dEG4-TE5-MK%s", 1+g.r.IntN(9), g.digits(2))}, "part 1EG4-TS5-MK73"
	default:
		return planted{"CREDIT_CARD_NUMBER_(NO_KEYWORD)", "reference", g.card()}, "test card 4111111111111111"
	}
}

func ibanID(ib string) string {
	for _, c := range ibanCountries {
		if c.code == ib[:2] {
			return c.name + "_BANK_ACCOUNT_NUMBER"
		}
	}
	return ""
}

type labelled struct {
	name string
	data []byte
	want map[string]int
}

// corpus builds n documents of each format.
func corpus(n int) []labelled {
	g := gen{rand.New(rand.NewPCG(7, 11))}
	var out []labelled
	add := func(name string, data []byte, ps []planted) {
		w := map[string]int{}
		for _, p := range ps {
			w[p.id]++
		}
		out = append(out, labelled{name, data, w})
	}
	items := func(k int) ([]planted, []string) {
		var ps []planted
		var ds []string
		for i := 0; i < k; i++ {
			p, d := g.sample()
			ps = append(ps, p)
			ds = append(ds, d)
		}
		return ps, ds
	}
	prose := func(ps []planted, ds []string) string {
		var b strings.Builder
		for i, p := range ps {
			fmt.Fprintf(&b, "%s\nCustomer %s %s: %s %s: %s.\n%s\nNote: %s was checked.\n", fillers[g.r.IntN(len(fillers))], firstNames[g.r.IntN(10)], lastNames[g.r.IntN(10)],
				"the", p.label, p.value, fillers[g.r.IntN(len(fillers))], ds[i])
		}
		return b.String()
	}
	table := func(ps []planted, ds []string) [][]string {
		rows := [][]string{{"name", "field", "value", "comment"}}
		for i, p := range ps {
			rows = append(rows, []string{firstNames[g.r.IntN(10)] + " " + lastNames[g.r.IntN(10)], p.label, p.label + ": " + p.value, ds[i]})
		}
		return rows
	}
	csvOf := func(rows [][]string, sep string) []byte {
		var b strings.Builder
		for _, r := range rows {
			for i, c := range r {
				if i > 0 {
					b.WriteString(sep)
				}
				if strings.ContainsAny(c, sep+"\"\n") {
					c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
				}
				b.WriteString(c)
			}
			b.WriteByte('\n')
		}
		return []byte(b.String())
	}
	records := func(ps []planted, ds []string) []map[string]any {
		var recs []map[string]any
		for i, p := range ps {
			recs = append(recs, map[string]any{"customer": map[string]any{"name": firstNames[g.r.IntN(10)], "details": p.label + ": " + p.value}, "comment": ds[i]})
		}
		return recs
	}
	for i := 0; i < n; i++ {
		ps, ds := items(12)
		add(fmt.Sprintf("doc%d.txt", i), []byte(prose(ps, ds)), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("t%d.csv", i), csvOf(table(ps, ds), ","), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("t%d.tsv", i), csvOf(table(ps, ds), "\t"), ps)
		ps, ds = items(12)
		j, _ := json.Marshal(map[string]any{"records": records(ps, ds)})
		add(fmt.Sprintf("r%d.json", i), j, ps)
		ps, ds = items(12)
		var jl strings.Builder
		for _, r := range records(ps, ds) {
			b, _ := json.Marshal(r)
			jl.Write(b)
			jl.WriteByte('\n')
		}
		add(fmt.Sprintf("r%d.jsonl", i), []byte(jl.String()), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("doc%d.txt.gz", i), gzipOf([]byte(prose(ps, ds))), ps)
		ps, ds = items(12)
		ps2, ds2 := items(12)
		add(fmt.Sprintf("b%d.zip", i), zipOf(file{"a.txt", []byte(prose(ps, ds))}, file{"b.csv", csvOf(table(ps2, ds2), ",")}), append(ps, ps2...))
		ps, ds = items(12)
		add(fmt.Sprintf("b%d.tar", i), tarOf(file{"c.txt", []byte(prose(ps, ds))}), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("l%d.docx", i), docxOf(prose(ps, ds)), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("s%d.xlsx", i), xlsxOf(table(ps, ds)), ps)
		ps, ds = items(12)
		add(fmt.Sprintf("p%d.pdf", i), pdfOf(prose(ps[:6], ds[:6]), prose(ps[6:], ds[6:])), ps)
	}
	return out
}

func TestAccuracy(t *testing.T) {
	e := mustEngine(t, Config{})
	type score struct{ tp, fp, fn int }
	per := map[string]*score{}
	get := func(id string) *score {
		if per[id] == nil {
			per[id] = &score{}
		}
		return per[id]
	}
	for _, doc := range corpus(8) {
		r := scanBytes(t, e, doc.name, doc.data)
		if r.Status != StatusComplete {
			t.Fatalf("%s: %s %v", doc.name, r.Status, r.Err)
		}
		got := map[string]int{}
		for _, d := range r.Detections {
			got[d.Type] += int(d.Count)
		}
		for id := range doc.want {
			got[id] += 0
		}
		for id, n := range got {
			w := doc.want[id]
			s := get(id)
			s.tp += min(n, w)
			if n > w {
				s.fp += n - w
				if testing.Verbose() {
					t.Logf("%s: %s found %d, planted %d", doc.name, id, n, w)
				}
			} else {
				s.fn += w - n
			}
		}
	}
	var ids []string
	for id := range per {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var all score
	var b strings.Builder
	b.WriteString("| identifier | planted | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|---|\n")
	ratio := func(a, c int) float64 {
		if c == 0 {
			return 1
		}
		return float64(a) / float64(c)
	}
	for _, id := range ids {
		s := per[id]
		all.tp, all.fp, all.fn = all.tp+s.tp, all.fp+s.fp, all.fn+s.fn
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f |\n", id, s.tp+s.fn, s.tp, s.fp, s.fn, ratio(s.tp, s.tp+s.fp), ratio(s.tp, s.tp+s.fn))
	}
	p, rc := ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn)
	fmt.Fprintf(&b, "| **overall** | %d | %d | %d | %d | **%.3f** | **%.3f** |\n", all.tp+all.fn, all.tp, all.fp, all.fn, p, rc)
	t.Log("\n" + b.String())
	if p < 0.95 || rc < 0.95 {
		t.Errorf("overall precision %.3f recall %.3f, want both >= 0.95", p, rc)
	}
}
