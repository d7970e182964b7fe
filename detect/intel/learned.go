package intel

import (
	"bufio"
	"bytes"
	"container/list"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minerwatch/minerwatch/internal/outfile"
)

// Reasons a learned entry exists.
const (
	ReasonDNSAnswer = "dns-answer" // resolved for a listed name; expires with the record's TTL
	ReasonConfirmed = "confirmed"  // the signature stage saw mining on this endpoint
	ReasonManual    = "manual"     // added with `minerwatch intel add`
)

// EvidenceTwoClients is the Evidence of a confirmed entry that two
// distinct client addresses confirmed (each without evidence of its own).
const EvidenceTwoClients = "2 clients"

// LearnedEntry is one learned pool endpoint.
type LearnedEntry struct {
	Addr netip.Addr `json:"ip"`
	// Port is the server port; 0 = any port (DNS-learned addresses).
	Port   uint16 `json:"port,omitempty"`
	Domain string `json:"domain,omitempty"` // the listed name or SNI behind it, when known
	Reason string `json:"reason"`
	Source string `json:"source,omitempty"` // list of the DNS entry, or the detector that confirmed
	// Evidence says why a confirmed entry was trusted: the confirming
	// flow's (e.g. "handshake+answer") or EvidenceTwoClients.
	Evidence string    `json:"evidence,omitempty"`
	Added    time.Time `json:"added"`
	Expires  time.Time `json:"expires"`
}

// Key is the entry in list syntax: "1.2.3.4" or "1.2.3.4:3333".
func (e LearnedEntry) Key() string {
	if e.Port == 0 {
		return e.Addr.String()
	}
	return netip.AddrPortFrom(e.Addr, e.Port).String()
}

// MaxLearned bounds the learned store so hostile DNS cannot grow it
// without limit; past it, expired entries are dropped and then new
// DNS-learned entries are refused (confirmed and manual ones still go in).
const MaxLearned = 1 << 20

// MaxPending bounds the confirmations waiting for a second client; past
// it the least recently confirmed one is dropped (counted).
const MaxPending = 4096

// Learned is the learned-endpoint store. It is safe for concurrent use.
//
// Confirmations without evidence (Propose) wait in a separate pending
// set, bounded by MaxPending and least-recently-confirmed first out: they
// never match a flow and are never saved.
type Learned struct {
	mu      sync.RWMutex
	m       map[addrKey]LearnedEntry
	size    atomic.Int64 // len(m), stored under mu after each change: Len takes no lock
	path    string
	dirty   bool
	refused int

	pending        map[addrKey]*list.Element // of *pendingConfirm
	lru            list.List                 // front = most recently confirmed
	pendingEvicted int64

	onTrusted func(LearnedEntry) // see OnTrusted; nil on the default path
}

// OnTrusted sets a function told of every confirmation that Propose
// trusts (after the trust rules: evidence, or a second client) and that
// is new or extends the stored entry by more than half its lifetime; a
// flow re-confirming a known pool does not call it again. Add (manual and
// remote entries) never calls it, so entries received from other sensors
// are not echoed back. It runs after the store's lock is released, on the
// confirming goroutine: it must not block (the Kafka sink only buffers).
func (l *Learned) OnTrusted(fn func(LearnedEntry)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onTrusted = fn
}

// pendingConfirm is a confirmation waiting for a second client.
type pendingConfirm struct {
	key    addrKey
	entry  LearnedEntry
	client netip.Addr // the client of the first confirming flow
}

// NewLearned returns an empty in-memory store (Save needs a path).
func NewLearned() *Learned {
	return &Learned{m: map[addrKey]LearnedEntry{}, pending: map[addrKey]*list.Element{}}
}

// OpenLearned loads the store persisted at path (JSON lines, one
// LearnedEntry per line). A missing file is an empty store. Bad lines are
// returned as warnings and skipped.
func OpenLearned(path string) (*Learned, []Warning, error) {
	l := NewLearned()
	l.path = path
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("learned list: %w", err)
	}
	var warns []Warning
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var e LearnedEntry
		if err := json.Unmarshal(line, &e); err != nil || !e.Addr.IsValid() {
			if err == nil {
				err = errors.New(`missing "ip"`)
			}
			warns = append(warns, Warning{File: path, Line: n + 1, Reason: err.Error()})
			continue
		}
		e.Addr = e.Addr.Unmap()
		l.m[learnedKey(e.Addr, e.Port)] = e
	}
	l.size.Store(int64(len(l.m)))
	return l, warns, nil
}

// Path is where Save writes ("" for an in-memory store).
func (l *Learned) Path() string { return l.path }

func learnedKey(a netip.Addr, port uint16) addrKey {
	return addrKey{ip: a.Unmap().As16(), port: port}
}

// Add inserts or replaces the entry for e's address and port. A
// DNS-learned entry never shortens or downgrades a confirmed/manual one.
func (l *Learned) Add(e LearnedEntry) bool {
	e.Addr = e.Addr.Unmap()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addLocked(e)
}

func (l *Learned) addLocked(e LearnedEntry) bool {
	k := learnedKey(e.Addr, e.Port)
	old, exists := l.m[k]
	if exists && e.Reason == ReasonDNSAnswer && old.Reason != ReasonDNSAnswer && old.Expires.After(e.Expires) {
		return false
	}
	if !exists && len(l.m) >= MaxLearned {
		l.expireLocked(e.Added)
		if len(l.m) >= MaxLearned && e.Reason == ReasonDNSAnswer {
			l.refused++
			return false
		}
	}
	l.m[k] = e
	l.size.Store(int64(len(l.m)))
	l.dirty = true
	return true
}

// Propose records that the flow of client confirmed mining on e's
// endpoint. With e.Evidence set the entry is trusted and added at once.
// Without, it is pending until a different client address confirms the
// same endpoint before e.Expires (it is then added with Evidence
// EvidenceTwoClients); a pending entry never matches and is never saved,
// and a confirmation without evidence does not refresh a trusted entry.
// It returns the entry as stored and whether it is trusted.
func (l *Learned) Propose(e LearnedEntry, client netip.Addr) (LearnedEntry, bool) {
	l.mu.Lock()
	got, trusted, fresh := l.proposeLocked(e, client)
	hook := l.onTrusted
	l.mu.Unlock()
	if fresh && hook != nil {
		hook(got)
	}
	return got, trusted
}

// proposeLocked is Propose under l.mu; fresh says whether a trusted entry
// was stored that OnTrusted's function must hear of.
func (l *Learned) proposeLocked(e LearnedEntry, client netip.Addr) (_ LearnedEntry, trusted, fresh bool) {
	e.Addr = e.Addr.Unmap()
	client = client.Unmap()
	k := learnedKey(e.Addr, e.Port)
	if el, ok := l.pending[k]; ok {
		p := el.Value.(*pendingConfirm)
		switch {
		case !e.Added.Before(p.entry.Expires): // stale: start over
			l.lru.Remove(el)
			delete(l.pending, k)
		case e.Evidence == "" && p.client == client:
			l.lru.MoveToFront(el)
			return p.entry, false, false
		default:
			l.lru.Remove(el)
			delete(l.pending, k)
			if e.Evidence == "" {
				e.Evidence = EvidenceTwoClients
			}
		}
	}
	if e.Evidence != "" {
		old, had := l.m[k]
		// Half the new entry's lifetime: a pool confirmed by every share
		// of a long session is announced about twice per TTL, not per flow.
		fresh := !had || !e.Added.Before(old.Expires) || e.Expires.Sub(old.Expires) > e.Expires.Sub(e.Added)/2
		return e, true, l.addLocked(e) && fresh
	}
	if old, ok := l.m[k]; ok && e.Added.Before(old.Expires) {
		return old, true, false
	}
	if l.pending == nil {
		l.pending = map[addrKey]*list.Element{}
	}
	if len(l.pending) >= MaxPending {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.pending, oldest.Value.(*pendingConfirm).key)
		l.pendingEvicted++
	}
	l.pending[k] = l.lru.PushFront(&pendingConfirm{key: k, entry: e, client: client})
	return e, false, false
}

// Pending returns the number of confirmations waiting for a second
// client, and how many were dropped because MaxPending was reached.
func (l *Learned) Pending() (n int, evicted int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.pending), l.pendingEvicted
}

// Remove deletes the entry for addr and port (0 = the any-port entry).
func (l *Learned) Remove(addr netip.Addr, port uint16) bool {
	k := learnedKey(addr, port)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.m[k]; !ok {
		return false
	}
	delete(l.m, k)
	l.size.Store(int64(len(l.m)))
	l.dirty = true
	return true
}

// Match finds an unexpired entry for addr with this port, else for any port.
func (l *Learned) Match(addr netip.Addr, port uint16, now time.Time) (LearnedEntry, bool) {
	a16 := addr.Unmap().As16()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.m) == 0 {
		return LearnedEntry{}, false
	}
	for _, p := range [2]uint16{port, 0} {
		if e, ok := l.m[addrKey{ip: a16, port: p}]; ok && now.Before(e.Expires) {
			return e, true
		}
	}
	return LearnedEntry{}, false
}

// Expire drops entries expired at now and returns how many.
func (l *Learned) Expire(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expireLocked(now)
}

func (l *Learned) expireLocked(now time.Time) int {
	n := 0
	for k, e := range l.m {
		if !now.Before(e.Expires) {
			delete(l.m, k)
			n++
		}
	}
	if n > 0 {
		l.size.Store(int64(len(l.m)))
		l.dirty = true
	}
	return n
}

// Len is the number of entries, expired or not.
func (l *Learned) Len() int {
	// Without the lock: a new flow's check asks this first, and two
	// atomic read-modify-writes per flow cost more than the answer.
	return int(l.size.Load())
}

// Refused counts DNS-learned entries refused because the store was full.
func (l *Learned) Refused() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.refused
}

// Entries returns a snapshot sorted by address and port.
func (l *Learned) Entries() []LearnedEntry {
	l.mu.RLock()
	out := make([]LearnedEntry, 0, len(l.m))
	for _, e := range l.m {
		out = append(out, e)
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b LearnedEntry) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// WriteJSONL writes the entries as JSON lines (the file format).
func (l *Learned) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, e := range l.Entries() {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("encode learned entry: %w", err)
		}
	}
	return bw.Flush()
}

// AsEntries yields the learned entries as list entries (for CSV or plain
// export, so a learned list can be shared as an ordinary --intel list).
func (l *Learned) AsEntries() func(yield func(Entry) bool) {
	return func(yield func(Entry) bool) {
		for _, le := range l.Entries() {
			e := Entry{Kind: KindAddr, Prefix: netip.PrefixFrom(le.Addr, le.Addr.BitLen()), Port: le.Port,
				Source: le.Source, Expires: le.Expires, Note: learnedNote(le)}
			if !yield(e) {
				return
			}
		}
	}
}

func learnedNote(e LearnedEntry) string {
	s := "learned:" + e.Reason
	if e.Evidence != "" {
		s += " evidence=" + e.Evidence
	}
	if e.Domain != "" {
		s += " domain=" + e.Domain
	}
	return s
}

// Save writes the store to its path if it changed since the last load or
// save: a temporary file in the same directory, synced, then renamed over
// the old one, so a crash leaves the old or the new list, never half.
func (l *Learned) Save() error {
	l.mu.RLock()
	dirty, path := l.dirty, l.path
	l.mu.RUnlock()
	if !dirty {
		return nil
	}
	if path == "" {
		return errors.New("learned list: no file to save to")
	}
	if err := l.SaveAs(path); err != nil {
		return err
	}
	l.mu.Lock()
	l.dirty = false
	l.mu.Unlock()
	return nil
}

// SaveAs writes the store atomically to path (temp file + rename, see
// internal/outfile), mode 0600: the list says which hosts mine where.
func (l *Learned) SaveAs(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("learned list: %w", err)
	}
	out, err := outfile.Create(path, outfile.Options{Perm: 0o600})
	if err != nil {
		return fmt.Errorf("save learned list: %w", err)
	}
	if _, err = io.WriteString(out, "# minerwatch learned pool endpoints, one JSON object per line; edit with `minerwatch intel`\n"); err == nil {
		err = l.WriteJSONL(out)
	}
	if err != nil {
		out.Abort()
		return fmt.Errorf("save learned list %s: %w", path, err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("save learned list: %w", err)
	}
	return nil
}

// DefaultLearnedPath is $MINERWATCH_LEARNED, else
// $XDG_STATE_HOME/minerwatch/learned.jsonl, else
// ~/.local/state/minerwatch/learned.jsonl (learned state, not configuration).
func DefaultLearnedPath() string {
	if p := os.Getenv("MINERWATCH_LEARNED"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "minerwatch", "learned.jsonl")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "minerwatch", "learned.jsonl")
	}
	return "minerwatch-learned.jsonl"
}

// ParseEndpoint parses "IP" or "IP:port" / "[IPv6]:port" for the learned list.
func ParseEndpoint(s string) (netip.Addr, uint16, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), ap.Port(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), 0, nil
	}
	return netip.Addr{}, 0, fmt.Errorf("bad endpoint %q (want IP or IP:port)", s)
}
