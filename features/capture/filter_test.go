package capture_test

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/capture"
)

func TestFilterDeliversOnlyKeptRecordsAcrossMergedFiles(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	a := []frame{
		{at: ms(0), link: layers.LinkTypeEthernet, data: payloadOf(0x01, 60)},
		{at: ms(2), link: layers.LinkTypeEthernet, data: payloadOf(0x02, 61)},
		{at: ms(4), link: layers.LinkTypeEthernet, data: payloadOf(0x03, 62)},
	}
	b := []frame{
		{at: ms(1), link: layers.LinkTypeEthernet, data: payloadOf(0x04, 63)},
		{at: ms(3), link: layers.LinkTypeEthernet, data: payloadOf(0x05, 64)},
	}
	pa := writeFile(t, "a.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, a...))
	pb := writeFile(t, "b.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, b...))
	r, err := capture.Open(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := 0
	// Keep the even first bytes: 0x02 and 0x04, in time order (2 at 2 ms
	// from file 0 comes after 4 at 1 ms from file 1).
	r.SetFilter(func(rec *capture.Record) bool { seen++; return rec.Data[0]%2 == 0 })
	read := readAll(t, r)
	if len(read) != 2 || read[0].data[0] != 0x04 || read[1].data[0] != 0x02 {
		t.Fatalf("read %d records %v, want 0x04 then 0x02", len(read), read)
	}
	if seen != 5 {
		t.Errorf("filter saw %d records, want all 5", seen)
	}
	if st := r.Stats(); st.Records != 2 || st.Filtered != 3 || st.Bytes != 61+63 {
		t.Errorf("stats %+v, want 2 records (124 bytes) delivered, 3 filtered", st)
	}
}

func TestFilterRejectingEverythingEndsAtEOF(t *testing.T) {
	fr := []frame{{at: t0, link: layers.LinkTypeEthernet, data: payloadOf(0x01, 60)}}
	r, err := capture.Open(writeFile(t, "a.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, fr...)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetFilter(func(*capture.Record) bool { return false })
	if read := readAll(t, r); len(read) != 0 {
		t.Errorf("read %d records, want none", len(read))
	}
	if st := r.Stats(); st.Records != 0 || st.Filtered != 1 {
		t.Errorf("stats %+v, want 0 records, 1 filtered", st)
	}
}
