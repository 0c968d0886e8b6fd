package s3test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
)

func transport(pool *x509.CertPool) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr
}
