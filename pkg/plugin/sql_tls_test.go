package plugin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// testCA is a throw-away certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert issues a server certificate for 127.0.0.1 (an IP SAN: sslmode=verify-full checks it).
func (ca *testCA) serverCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestSQLOverTLS: a PostgreSQL server with ssl=on and a certificate of a throw-away CA.
// sslmode=verify-full with that CA in Grafana's TLS settings (tlsAuthWithCACert, tlsCACert)
// connects, and Save & test and a query succeed; another CA, or none (the system roots), fails
// with a message that says the certificate was not trusted and holds no secret.
func TestSQLOverTLS(t *testing.T) {
	ca := newTestCA(t, "modellens test CA")
	crt, key := ca.serverCert(t)
	pg := testdb.StartPostgres(t, testdb.WithTLS(crt, key))
	ctx := context.Background()
	require.NoError(t, sqlsource.CreateTables(ctx, pg.Conn(t), "predictions", "reference"))
	_, err := pg.Conn(t).Exec(ctx, `INSERT INTO predictions (ts, model, version, latency_ms, status, features)
		VALUES (now(), 'm', 'v1', 12.5, 'ok', '{"x": 1}')`)
	require.NoError(t, err)

	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=verify-full", pg.User, pg.Host, pg.Port, pg.Database)
	instance := func(caPEM []byte) *Datasource {
		t.Helper()
		js := map[string]any{"sql": map[string]any{"url": url}}
		secure := map[string]string{"sqlPassword": pg.Password}
		if caPEM != nil {
			js["tlsAuthWithCACert"] = true
			secure["tlsCACert"] = string(caPEM)
		}
		b, _ := json.Marshal(js)
		inst, err := NewDatasource(ctx, backend.DataSourceInstanceSettings{UID: "pg", JSONData: b, DecryptedSecureJSONData: secure})
		require.NoError(t, err)
		d := inst.(*Datasource)
		t.Cleanup(d.Dispose)
		return d
	}

	d := instance(ca.pem)
	res, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	var ssl bool
	require.NoError(t, d.sql.Pool().QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl))
	require.True(t, ssl, "the connection uses TLS")
	tr := backend.TimeRange{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Minute)}
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "A", JSON: []byte(`{"queryType":"traffic","source":"sql","model":"m","metrics":["count"],"output":"latest","window":"2h"}`), Interval: time.Minute, TimeRange: tr},
	}})
	require.NoError(t, err)
	require.NoError(t, resp.Responses["A"].Error)

	other := newTestCA(t, "another CA")
	for name, caPEM := range map[string][]byte{"another CA": other.pem, "no CA (system roots)": nil} {
		d := instance(caPEM)
		res, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
		require.NoError(t, err)
		require.Equal(t, backend.HealthStatusError, res.Status, name)
		require.Contains(t, res.Message, "TLS: the server's certificate is not trusted", name)
		require.Contains(t, res.Message, "certificate signed by unknown authority", name)
		require.NotContains(t, res.Message, pg.Password, name)
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
			{RefID: "A", JSON: []byte(`{"queryType":"traffic","source":"sql","model":"m"}`), Interval: time.Minute, TimeRange: tr},
		}})
		require.NoError(t, err)
		require.Error(t, resp.Responses["A"].Error, name)
		require.NotContains(t, resp.Responses["A"].Error.Error(), pg.Password, name)
		t.Logf("%s: %s", name, res.Message)
	}
}
