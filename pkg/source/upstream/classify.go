package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// TransportError is a failure to send a request or to read its answer, with a message that says
// what happened in a user's words; the cause stays in the chain.
type TransportError struct {
	Msg string
	Err error
	// timeout makes errors.Is(err, context.DeadlineExceeded) true for a network timeout too.
	timeout bool
}

func (e *TransportError) Error() string { return e.Msg }
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports a timeout as context.DeadlineExceeded.
func (e *TransportError) Is(target error) bool {
	return e.timeout && target == context.DeadlineExceeded
}

// Classify turns a failure of client.Do or of reading a body into a TransportError: a timeout, a
// cancellation, a refused connection, an unknown host (DNS), a TLS failure, a refused redirect, a
// busy upstream (429), an oversized or truncated answer. ctx is the request's context (its end
// explains many failures). Classify(nil) is nil; a TransportError is returned as is.
func Classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var te *TransportError
	if errors.As(err, &te) {
		return err
	}
	cause := err
	var uerr *url.Error
	host := ""
	if errors.As(err, &uerr) {
		cause = uerr.Err
		if u, perr := url.Parse(uerr.URL); perr == nil {
			host = u.Host
		}
	}
	mk := func(msg string) *TransportError { return &TransportError{Msg: msg, Err: cause} }
	var (
		ne       net.Error
		dns      *net.DNSError
		redirect *RedirectError
		busyErr  *BusyError
		tooLarge *TooLargeError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		alert    tls.AlertError
	)
	switch {
	case errors.As(cause, &redirect):
		return mk(redirect.Error())
	case errors.As(cause, &busyErr):
		return mk(busyErr.Error())
	case errors.As(cause, &tooLarge):
		return mk(tooLarge.Error())
	case errors.Is(cause, ErrTooLarge):
		return mk("response too large")
	case ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.Is(cause, context.DeadlineExceeded),
		errors.As(cause, &ne) && ne.Timeout():
		return &TransportError{Msg: "the upstream timed out (raise timeoutSeconds or shorten the time range)", Err: cause, timeout: true}
	case ctx != nil && errors.Is(ctx.Err(), context.Canceled), errors.Is(cause, context.Canceled):
		return &TransportError{Msg: "the request was cancelled", Err: context.Canceled}
	case errors.As(cause, &dns):
		what := dns.Err
		if dns.IsNotFound {
			what = "no such host"
		}
		return mk("cannot resolve host " + dns.Name + " (DNS: " + what + ")")
	case errors.Is(cause, syscall.ECONNREFUSED):
		return mk("connection refused by " + orUpstream(host) + " (is the server running, and the URL right?)")
	case errors.Is(cause, syscall.ECONNRESET):
		return mk("the connection was reset by " + orUpstream(host))
	case errors.As(cause, &unknown), errors.As(cause, &hostname), errors.As(cause, &invalid), errors.As(cause, &verify):
		return mk("TLS: the certificate of " + orUpstream(host) + " is not trusted: " + Printable(cause.Error(), 200) +
			" (set the CA certificate, or the server name, in the TLS settings)")
	case errors.As(cause, &record), strings.Contains(cause.Error(), "server gave HTTP response to HTTPS client"):
		return mk("TLS: " + orUpstream(host) + " did not answer with TLS (is the URL http:// rather than https://?)")
	case errors.As(cause, &alert):
		return mk("TLS: the handshake with " + orUpstream(host) + " failed: " + alert.Error())
	case errors.Is(cause, io.ErrUnexpectedEOF):
		return mk("the response ended early (truncated)")
	case errors.Is(cause, io.EOF):
		return mk("the upstream closed the connection without an answer")
	}
	return mk(Printable(cause.Error(), 300))
}

func orUpstream(host string) string {
	if host == "" {
		return "the upstream"
	}
	return host
}

// IsTransport tells a failure to read a body (for Classify) from a malformed body.
func IsTransport(err error) bool {
	var ne net.Error
	var ue *url.Error
	var te *TransportError
	return errors.Is(err, ErrTooLarge) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.As(err, &ue) || errors.As(err, &te)
}
