package discovery

// managed describes one managed data identifier: id, category, keywords
// (§9.2: near the match, or in a column name / JSON path) and whether a
// keyword is required.
type managed struct {
	id          string
	cat         Category
	kw          []string
	required    bool
	recommended bool
}

// Identifier indexes into managedTable; detectors emit these.
const (
	idAWS = iota
	idGCP
	idBasicAuth
	idJWT
	idOpenSSH
	idPGP
	idPKCS
	idPuTTY
	idStripe
	idBankAcct
	idCard
	idCardNoKW
	idCardExp
	idCardCVV
	idABA
	idEmail
	idPhone
	idSSN
	idITIN
	idSIN
	idNINO
	idUSPassport
	idDL
	idDOB
	idAddress
	idCookie
	idINSEE
	idSpainDNI
	idSpainNIE
	idAadhaar
	idSUBE
	idNHS
	idMBI
	idHICN
	idDEA
	idNPI
	idIBAN // first IBAN; the per-country ids follow
)

var (
	kwCard = []string{"card", "cc#", "ccn", "credit card", "debit card", "pan", "visa", "mastercard", "amex", "card number", "payment"}
	kwSSN  = []string{"social security", "ss#", "ssn", "ssns"}
)

var managedTable = append([]managed{
	idAWS:        {"AWS_CREDENTIALS", CategoryCredentials, []string{"aws_secret_access_key", "credentials", "secret access key", "secret key", "set-awscredential"}, true, true},
	idGCP:        {"GCP_API_KEY", CategoryCredentials, []string{"G_PLACES_KEY", "GCP api key", "GCP key", "google cloud key", "google-api-key", "google-cloud-apikeys", "GOOGLEKEY", "X-goog-api-key"}, true, true},
	idBasicAuth:  {"HTTP_BASIC_AUTH_HEADER", CategoryCredentials, nil, false, true},
	idJWT:        {"JSON_WEB_TOKEN", CategoryCredentials, nil, false, true},
	idOpenSSH:    {"OPENSSH_PRIVATE_KEY", CategoryCredentials, nil, false, true},
	idPGP:        {"PGP_PRIVATE_KEY", CategoryCredentials, nil, false, true},
	idPKCS:       {"PKCS", CategoryCredentials, nil, false, true},
	idPuTTY:      {"PUTTY_PRIVATE_KEY", CategoryCredentials, nil, false, true},
	idStripe:     {"STRIPE_CREDENTIALS", CategoryCredentials, nil, false, true},
	idBankAcct:   {"BANK_ACCOUNT_NUMBER", CategoryFinancial, []string{"bank account", "checking account", "savings account", "chequing account", "account number", "acct", "account no"}, true, true},
	idCard:       {"CREDIT_CARD_NUMBER", CategoryFinancial, kwCard, true, true},
	idCardNoKW:   {"CREDIT_CARD_NUMBER_(NO_KEYWORD)", CategoryFinancial, nil, false, true},
	idCardExp:    {"CREDIT_CARD_EXPIRATION", CategoryFinancial, []string{"exp d", "exp m", "exp y", "expiration", "expiry", "exp date", "expires", "valid thru"}, true, true},
	idCardCVV:    {"CREDIT_CARD_SECURITY_CODE", CategoryFinancial, []string{"cvv", "cvv2", "cvc", "cvc2", "card security code", "security code", "card verification", "csc"}, true, true},
	idABA:        {"USA_ABA_ROUTING_NUMBER", CategoryFinancial, []string{"aba", "routing", "rtn", "routing number", "aba number", "transit number"}, true, true},
	idEmail:      {"EMAIL_ADDRESS", CategoryPersonal, nil, false, false},
	idPhone:      {"PHONE_NUMBER", CategoryPersonal, []string{"phone", "telephone", "tel", "mobile", "cell", "fax", "contact number", "call"}, false, true},
	idSSN:        {"USA_SOCIAL_SECURITY_NUMBER", CategoryPersonal, kwSSN, true, true},
	idITIN:       {"USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", CategoryPersonal, []string{"itin", "taxpayer identification", "tax id", "tin"}, true, true},
	idSIN:        {"CANADA_SOCIAL_INSURANCE_NUMBER", CategoryPersonal, []string{"sin", "social insurance", "numéro d'assurance sociale", "insurance number"}, true, true},
	idNINO:       {"UK_NATIONAL_INSURANCE_NUMBER", CategoryPersonal, []string{"national insurance", "nino", "ni number", "insurance no", "nin"}, true, true},
	idUSPassport: {"USA_PASSPORT_NUMBER", CategoryPersonal, []string{"passport", "passport number", "passport no", "passport#"}, true, true},
	idDL:         {"DRIVERS_LICENSE", CategoryPersonal, []string{"driver's license", "drivers license", "driver license", "driver's licence", "drivers licence", "dl#", "dl number", "license number", "licence number", "lic#"}, true, true},
	idDOB:        {"DATE_OF_BIRTH", CategoryPersonal, []string{"bday", "birth date", "birthdate", "birthday", "date of birth", "dob", "born", "birth"}, true, true},
	idAddress:    {"ADDRESS", CategoryPersonal, nil, false, true},
	idCookie:     {"HTTP_COOKIE", CategoryPersonal, nil, false, true},
	idINSEE:      {"FRANCE_NATIONAL_IDENTIFICATION_NUMBER", CategoryPersonal, []string{"insee", "sécurité sociale", "securite sociale", "numéro de sécurité sociale", "nir", "social security"}, true, true},
	idSpainDNI:   {"SPAIN_DNI_NUMBER", CategoryPersonal, []string{"dni", "documento nacional de identidad", "nif"}, true, true},
	idSpainNIE:   {"SPAIN_NIE_NUMBER", CategoryPersonal, []string{"nie", "número de identidad de extranjero", "extranjero"}, true, true},
	idAadhaar:    {"INDIA_AADHAAR_NUMBER", CategoryPersonal, []string{"aadhaar", "aadhar", "uidai", "uid"}, true, true},
	idSUBE:       {"ARGENTINA_TARJETA_SUBE", CategoryPersonal, []string{"sube", "tarjeta sube"}, true, true},
	idNHS:        {"UK_NHS_NUMBER", CategoryPersonal, []string{"nhs", "national health service", "nhs number", "health number", "patient"}, true, true},
	idMBI:        {"USA_MEDICARE_BENEFICIARY_IDENTIFIER", CategoryPersonal, []string{"mbi", "medicare", "beneficiary", "medicare number"}, true, true},
	idHICN:       {"USA_HEALTH_INSURANCE_CLAIM_NUMBER", CategoryPersonal, []string{"hicn", "medicare", "health insurance claim", "claim number", "insurance claim"}, true, true},
	idDEA:        {"US_DRUG_ENFORCEMENT_AGENCY_NUMBER", CategoryPersonal, []string{"dea", "drug enforcement", "dea number", "dea registration", "prescriber"}, true, true},
	idNPI:        {"USA_NATIONAL_PROVIDER_IDENTIFIER", CategoryPersonal, []string{"npi", "national provider", "provider id", "provider number"}, true, true},
}, ibanManaged()...)

var managedIndex = func() map[string]int {
	m := make(map[string]int, len(managedTable))
	for i, d := range managedTable {
		m[d.id] = i
	}
	return m
}()

// ibanCountries: ISO 3166 code → (Macie country name, IBAN length).
var ibanCountries = []struct {
	code, name string
	n          int
}{
	{"AL", "ALBANIA", 28}, {"AD", "ANDORRA", 24}, {"AT", "AUSTRIA", 20}, {"AZ", "AZERBAIJAN", 28}, {"BH", "BAHRAIN", 22},
	{"BE", "BELGIUM", 16}, {"BA", "BOSNIA_AND_HERZEGOVINA", 20}, {"BR", "BRAZIL", 29}, {"BG", "BULGARIA", 22},
	{"CR", "COSTA_RICA", 22}, {"HR", "CROATIA", 21}, {"CY", "CYPRUS", 28}, {"CZ", "CZECHIA", 24}, {"DK", "DENMARK", 18},
	{"DO", "DOMINICAN_REPUBLIC", 28}, {"EG", "EGYPT", 29}, {"EE", "ESTONIA", 20}, {"FO", "FAROE_ISLANDS", 18},
	{"FI", "FINLAND", 18}, {"FR", "FRANCE", 27}, {"GE", "GEORGIA", 22}, {"DE", "GERMANY", 22}, {"GI", "GIBRALTAR", 23},
	{"GR", "GREECE", 27}, {"GL", "GREENLAND", 18}, {"GT", "GUATEMALA", 28}, {"HU", "HUNGARY", 28}, {"IS", "ICELAND", 26},
	{"IE", "IRELAND", 22}, {"IL", "ISRAEL", 23}, {"IT", "ITALY", 27}, {"JO", "JORDAN", 30}, {"KZ", "KAZAKHSTAN", 20},
	{"XK", "KOSOVO", 20}, {"KW", "KUWAIT", 30}, {"LV", "LATVIA", 21}, {"LB", "LEBANON", 28}, {"LI", "LIECHTENSTEIN", 21},
	{"LT", "LITHUANIA", 20}, {"LU", "LUXEMBOURG", 20}, {"MT", "MALTA", 31}, {"MR", "MAURITANIA", 27}, {"MU", "MAURITIUS", 30},
	{"MC", "MONACO", 27}, {"MD", "MOLDOVA", 24}, {"ME", "MONTENEGRO", 22}, {"NL", "NETHERLANDS", 18}, {"MK", "NORTH_MACEDONIA", 19},
	{"NO", "NORWAY", 15}, {"PK", "PAKISTAN", 24}, {"PS", "PALESTINE", 29}, {"PL", "POLAND", 28}, {"PT", "PORTUGAL", 25},
	{"QA", "QATAR", 29}, {"RO", "ROMANIA", 24}, {"SM", "SAN_MARINO", 27}, {"SA", "SAUDI_ARABIA", 24}, {"RS", "SERBIA", 22},
	{"SK", "SLOVAKIA", 24}, {"SI", "SLOVENIA", 19}, {"ES", "SPAIN", 24}, {"SE", "SWEDEN", 24}, {"CH", "SWITZERLAND", 21},
	{"TN", "TUNISIA", 24}, {"TR", "TURKIYE", 26}, {"AE", "UNITED_ARAB_EMIRATES", 23}, {"GB", "UK", 22}, {"VG", "VIRGIN_ISLANDS", 24},
}

// ibanByCode maps the two-letter prefix to (identifier index, length).
var ibanByCode = map[[2]byte][2]int{}

func ibanManaged() []managed {
	out := make([]managed, 0, len(ibanCountries))
	for i, c := range ibanCountries {
		out = append(out, managed{id: c.name + "_BANK_ACCOUNT_NUMBER", cat: CategoryFinancial, recommended: true})
		ibanByCode[[2]byte{c.code[0], c.code[1]}] = [2]int{idIBAN + i, c.n}
	}
	return out
}
