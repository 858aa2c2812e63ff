package s3api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestParseNetworkEndpoint(t *testing.T) {
	ne, err := ParseNetworkEndpoint("vpce-office:vpc-corp=10.0.0.0/8, 192.168.1.7/24")
	if err != nil || ne.ID != "vpce-office" || ne.VPC != "vpc-corp" || len(ne.Prefixes) != 2 || ne.Prefixes[1].String() != "192.168.1.0/24" {
		t.Fatalf("got %+v, %v", ne, err)
	}
	if ne, err := ParseNetworkEndpoint("vpce-x=::1/128"); err != nil || ne.VPC != "" {
		t.Fatalf("got %+v, %v", ne, err)
	}
	for _, bad := range []string{"", "vpce-x", "=10.0.0.0/8", "vpce x=10.0.0.0/8", "vpce-x=10.0.0.0/33", "vpce-x:=1.2.3.4/32"} {
		if _, err := ParseNetworkEndpoint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	h := &Handler{cfg: Config{Networks: []NetworkEndpoint{ne}}}
	if h.endpointFor("172.16.0.1") != nil {
		t.Error("address outside the network matched")
	}
	if e := h.endpointFor("::ffff:10.1.2.3"); e == nil || e.ID != "vpce-office" {
		t.Errorf("endpointFor(mapped v4) = %+v", e)
	}
}

func TestSourceIPTrustsOnlyConfiguredProxies(t *testing.T) {
	mk := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest("GET", "https://h/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	h := &Handler{}
	if got := h.sourceIP(mk("203.0.113.5:1234", "10.9.9.9")); got != "203.0.113.5" {
		t.Errorf("untrusted peer's header believed: %s", got)
	}
	h.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		remote string
		xff    []string
		want   string
	}{
		{"10.0.0.1:1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"10.0.0.1:1", []string{"1.1.1.1, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"}, // spoofed leftmost ignored
		{"10.0.0.1:1", []string{"garbage, 198.51.100.7"}, "198.51.100.7"},
		{"10.0.0.1:1", []string{"198.51.100.7, garbage"}, "10.0.0.1"},
		{"10.0.0.1:1", nil, "10.0.0.1"},
		{"203.0.113.5:1", []string{"198.51.100.7"}, "203.0.113.5"},
	}
	for _, tc := range cases {
		if got := h.sourceIP(mk(tc.remote, tc.xff...)); got != tc.want {
			t.Errorf("%s %v: got %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
