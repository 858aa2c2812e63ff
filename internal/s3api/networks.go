package s3api

import (
	"fmt"
	"net/netip"
	"strings"
)

// NetworkEndpoint is Coffer's counterpart of an AWS VPC gateway endpoint: a
// named set of client networks. A request arriving from one of them carries
// aws:SourceVpce (the endpoint id) and aws:SourceVpc (the network's id) and
// aws:VpcSourceIp instead of aws:SourceIp, exactly as S3 requests through
// a VPC endpoint do, so that policies such as "only through endpoint X"
// work unchanged.
type NetworkEndpoint struct {
	ID       string // e.g. vpce-office
	VPC      string // e.g. vpc-corp ("" to leave aws:SourceVpc absent)
	Prefixes []netip.Prefix
}

// ParseNetworkEndpoint parses "ENDPOINT[:VPC]=CIDR[,CIDR…]", for example
// "vpce-office:vpc-corp=10.0.0.0/8,192.168.1.0/24".
func ParseNetworkEndpoint(s string) (NetworkEndpoint, error) {
	var ne NetworkEndpoint
	ids, cidrs, ok := strings.Cut(s, "=")
	if !ok || ids == "" || cidrs == "" {
		return ne, fmt.Errorf("network endpoint %q: want ENDPOINT[:VPC]=CIDR[,CIDR...]", s)
	}
	var hasVPC bool
	ne.ID, ne.VPC, hasVPC = strings.Cut(ids, ":")
	if !validEndpointID(ne.ID) || (hasVPC && !validEndpointID(ne.VPC)) {
		return ne, fmt.Errorf("network endpoint %q: ids are letters, digits and '-'", s)
	}
	for _, c := range strings.Split(cidrs, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return ne, fmt.Errorf("network endpoint %q: %w", s, err)
		}
		ne.Prefixes = append(ne.Prefixes, p.Masked())
	}
	return ne, nil
}

func validEndpointID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// endpointFor returns the network endpoint a client address belongs to
// (the first that matches), or nil.
func (h *Handler) endpointFor(ip string) *NetworkEndpoint {
	if len(h.cfg.Networks) == 0 {
		return nil
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	addr = addr.Unmap()
	for i := range h.cfg.Networks {
		for _, p := range h.cfg.Networks[i].Prefixes {
			if p.Contains(addr) {
				return &h.cfg.Networks[i]
			}
		}
	}
	return nil
}
