package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// errNoPeerCert reports a TLS peer that presented no certificate.
var errNoPeerCert = errors.New("cluster: peer presented no certificate")

// loadTLS builds the TLS configuration shared by both link roles: one
// certificate for dialing and accepting, TLS 1.3 only, and the peer's chain
// verified against the cluster CA on both sides.
func loadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: TLSCA: %w", ErrInvalidConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%w: TLSCA %s holds no PEM certificate", ErrInvalidConfig, caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: TLSCert/TLSKey: %w", ErrInvalidConfig, err)
	}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errNoPeerCert
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots:         pool,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		return err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		// Both roles verify the peer in VerifyConnection against the cluster
		// CA. Membership is proven by the CA signature, not by a host name:
		// peers are dialed at gossiped addresses that certificates need not
		// list, so the dialer skips the default host-name check, and the
		// acceptor demands a client certificate that VerifyConnection checks.
		InsecureSkipVerify: true, //nolint:gosec // chain verified in VerifyConnection
		ClientAuth:         tls.RequireAnyClientCert,
		VerifyConnection:   verify,
	}, nil
}
