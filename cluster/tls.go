package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// errNoPeerCert reports a TLS peer that presented no certificate.
var errNoPeerCert = errors.New("cluster: peer presented no certificate")

// tlsMaterial is one generation of the node's TLS files: its certificate
// and the CA pool peers are verified against.
type tlsMaterial struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

// tlsState holds the material in force. Handshakes read it when they
// happen, so a reload applies to every later link and leaves established
// links as they are.
type tlsState struct {
	cur atomic.Pointer[tlsMaterial]
}

// loadMaterial reads and checks the CA bundle, certificate and key.
func loadMaterial(caFile, certFile, keyFile string) (*tlsMaterial, error) {
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
	return &tlsMaterial{cert: &cert, pool: pool}, nil
}

// loadTLS reads the TLS files and builds the configuration shared by both
// link roles: one certificate for dialing and accepting, TLS 1.3 only, and
// the peer's chain verified against the cluster CA on both sides. The
// certificate and CA are looked up at each handshake from the returned
// state, which reload replaces.
func loadTLS(caFile, certFile, keyFile string) (*tls.Config, *tlsState, error) {
	m, err := loadMaterial(caFile, certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	st := &tlsState{}
	st.cur.Store(m)
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errNoPeerCert
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots:         st.cur.Load().pool,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		return err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return st.cur.Load().cert, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return st.cur.Load().cert, nil
		},
		// Both roles verify the peer in VerifyConnection against the cluster
		// CA. Membership is proven by the CA signature, not by a host name:
		// peers are dialed at gossiped addresses that certificates need not
		// list, so the dialer skips the default host-name check, and the
		// acceptor demands a client certificate that VerifyConnection checks.
		InsecureSkipVerify: true, //nolint:gosec // chain verified in VerifyConnection
		ClientAuth:         tls.RequireAnyClientCert,
		VerifyConnection:   verify,
	}, st, nil
}

// ReloadTLS replaces the node's CA bundle, certificate and key with the
// files' current contents. Established links stay up on the material they
// were made with; every later handshake, dialing or accepting, uses the new
// one. To rotate a CA without a partition, first reload everywhere with a
// bundle holding the old and the new CA, then the certificates signed by
// the new CA, then (optionally) the new CA alone. On error nothing changes.
// It fails with ErrNoTLS on a node started without TLS.
func (n *Node) ReloadTLS(caFile, certFile, keyFile string) error {
	if n.tlsState == nil {
		return ErrNoTLS
	}
	m, err := loadMaterial(caFile, certFile, keyFile)
	if err != nil {
		return err
	}
	n.tlsState.cur.Store(m)
	n.stats.tlsReloads.Add(1)
	n.log.Info("cluster: TLS material reloaded", "node", n.id, "ca", caFile, "cert", certFile)
	return nil
}
