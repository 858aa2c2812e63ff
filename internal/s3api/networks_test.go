package s3api

import "testing"

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
