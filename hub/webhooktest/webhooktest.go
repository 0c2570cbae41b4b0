// Package webhooktest is a partner's webhook endpoint for tests, on
// httptest: it checks every delivery the way the Standard Webhooks
// specification tells a receiver to (its own code, not the hub's signer),
// counts deliveries by webhook-id, and misbehaves on purpose when told to
// (times out, fails, drops the connection).
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour answers one delivery attempt and reports whether it accepted
// it. attempt counts the attempts of this webhook-id, from 1.
type Behaviour func(w http.ResponseWriter, r *http.Request, attempt int) (accepted bool)

// OK accepts every delivery.
func OK(w http.ResponseWriter, _ *http.Request, _ int) bool {
	w.WriteHeader(http.StatusNoContent)
	return true
}

// Dead answers every delivery with a 500.
func Dead(w http.ResponseWriter, _ *http.Request, _ int) bool {
	http.Error(w, "down for maintenance", http.StatusInternalServerError)
	return false
}

// Hang never answers: it holds every attempt until the hub gives up on it.
func Hang(_ http.ResponseWriter, r *http.Request, _ int) bool {
	<-r.Context().Done()
	return false
}

// FailTimes answers the first n attempts of each delivery with a 500.
func FailTimes(n int) Behaviour {
	return func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		if attempt <= n {
			return Dead(w, r, attempt)
		}
		return OK(w, r, attempt)
	}
}

// TimeoutFirst holds the first attempt of each delivery past the hub's
// timeout (until the hub hangs up), then accepts.
func TimeoutFirst(w http.ResponseWriter, r *http.Request, attempt int) bool {
	if attempt == 1 {
		return Hang(w, r, attempt)
	}
	return OK(w, r, attempt)
}

// DropFirst closes the connection without an answer on the first attempt
// of each delivery, then accepts.
func DropFirst(w http.ResponseWriter, r *http.Request, attempt int) bool {
	if attempt == 1 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(fmt.Sprintf("webhooktest: hijack: %v", err))
		}
		conn.Close()
		return false
	}
	return OK(w, r, attempt)
}

// Event is an accepted delivery: the CloudEvents attributes, the ninjs
// data, the HTTP Content-Type and when it arrived.
type Event struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	Subject         string         `json:"subject"`
	Time            string         `json:"time"`
	DataContentType string         `json:"datacontenttype"`
	Campaign        string         `json:"campaign"`
	Language        string         `json:"language"`
	Data            map[string]any `json:"data"`
	ContentType     string         `json:"-"`
	Arrived         time.Time      `json:"-"`
}

// Receiver is a webhook endpoint. Its URL is Server.URL.
type Receiver struct {
	*httptest.Server
	tb testing.TB

	mu       sync.Mutex
	secret   string
	behave   Behaviour
	attempts map[string]int
	accepted map[string]int
	events   []Event
	arrived  chan struct{}
}

// Start runs a receiver that answers as behave says, closed when the test
// ends. Give it the webhook's secret with SetSecret before anything is
// delivered.
func Start(tb testing.TB, behave Behaviour) *Receiver {
	tb.Helper()
	r := &Receiver{tb: tb, behave: behave, attempts: map[string]int{}, accepted: map[string]int{}, arrived: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(func() {
		r.CloseClientConnections() // ends Hang and TimeoutFirst at once
		r.Close()
	})
	return r
}

// SetSecret sets the signing secret deliveries are checked against.
func (r *Receiver) SetSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

// SetBehaviour changes how the receiver answers from now on.
func (r *Receiver) SetBehaviour(b Behaviour) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.behave = b
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	r.mu.Lock()
	secret, behave := r.secret, r.behave
	id := req.Header.Get("webhook-id")
	r.attempts[id]++
	attempt := r.attempts[id]
	r.mu.Unlock()

	if err := Verify(secret, req.Header, body, time.Now()); err != nil {
		r.tb.Errorf("webhooktest: delivery %s: %v", id, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.tb.Errorf("webhooktest: delivery %s is not JSON: %v", id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev.ContentType, ev.Arrived = req.Header.Get("Content-Type"), time.Now()
	if !behave(w, req, attempt) {
		return
	}
	r.mu.Lock()
	r.accepted[id]++
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

// Verify checks a delivery as the Standard Webhooks specification says a
// receiver should: the signed content is "<webhook-id>.<webhook-timestamp>.<body>",
// the key is the base64 after "whsec_", one of the space-separated
// "v1,<base64 HMAC-SHA256>" signatures must match, and the timestamp must
// be within five minutes of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp is %v off", d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("the secret %q is not whsec_ and base64", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(sigs) {
		version, value, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(value)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

// Accepted returns how many times delivery id was accepted.
func (r *Receiver) Accepted(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[id]
}

// Attempts returns how many attempts of delivery id reached the receiver.
func (r *Receiver) Attempts(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[id]
}

// Events returns the accepted deliveries, in order of arrival.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// WaitFor waits until delivery id is accepted and returns it, failing the
// test after d.
func (r *Receiver) WaitFor(tb testing.TB, id string, d time.Duration) Event {
	tb.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		for _, ev := range r.Events() {
			if ev.ID == id {
				return ev
			}
		}
		select {
		case <-r.arrived:
		case <-deadline.C:
			tb.Fatalf("webhooktest: %s was not delivered within %v (%d attempts reached the receiver)", id, d, r.Attempts(id))
			return Event{}
		}
	}
}
