package stratum_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Seed conversations, one message a line; a line starting with '<' is
// server → client, any other client → server. Shapes from the captures
// the signature tests quote (XMRig plaintext, cpuminer, eth-proxy).
var fuzzSeeds = []string{
	`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4FASi45ub7Qe4ZE36UT5G6cU4ud8Fhhe4deS4F3cw9KTAb8dLcukC7edhDQ7cn5d4gEYkbUrMWeWQLGsCmrG6dLaYyNoVKf","pass":"rig01","agent":"XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","rigid":"rig01","algo":["rx/0","rx/wow","cn/r"]}}
<{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"eb2ac8fe","job":{"blob":"1010e0948bd8","job_id":"QKGGhgBRiXgasGfS","target":"0d74da00","algo":"rx/0","height":3612345},"status":"OK"}}
{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"eb2ac8fe","job_id":"QKGGhgBRiXgasGfS","nonce":"ae000000","result":"55d0","algo":"rx/0"}}
<{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}
<{"jsonrpc":"2.0","method":"job","params":{"blob":"10108c","job_id":"MBpJ","target":"0d74da00","algo":"rx/0","height":3612346}}
{"id":3,"jsonrpc":"2.0","method":"keepalived","params":{"id":"eb2ac8fe"}}`,
	`{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}
<{"id":1,"result":[[["mining.set_difficulty","c4a7ebe3"],["mining.notify","c4a7ebe3"]],"8ef93272",4],"error":null}
{"id": 2, "method": "mining.authorize", "params": ["bc1q7k4xg0m5l9z3lfmw8h2y6c5wz0t3s8r4p2e9qd.rig04", "x"]}
<{"id":2,"result":true,"error":null}
<{"id":null,"method":"mining.set_difficulty","params":[0.02]}
<{"id":null,"method":"mining.notify","params":["6b020001","ef70","0200000001","2f6d",[],"20000000","1703a5d6","65a1b2c3",true]}
{"params": ["user.worker", "6b020001", "00000000", "65a1b2c3", "a1b2c3d4"], "id": 4, "method": "mining.submit"}
<{"id":4,"result":true,"error":null}`,
	`{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["0x0fccfff9e61a230ff380530c6827caf4759337c6"],"worker":"rig"}
<{"id":1,"jsonrpc":"2.0","result":true}
{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}
<{"id":2,"jsonrpc":"2.0","result":["0xabcd","0x1234","0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba"]}
{"id":3,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x500000","0x1"]}`,
	// Found by FuzzSignatureFlow: a bare "xmr-stak" agent panicked ParseAgent.
	`{"method":"login","params":{"login":"0","agent":"xmr-stak"}}`,
	// A mid-session capture: the server's job comes first.
	`<{"jsonrpc":"2.0","method":"job","params":{"blob":"10","job_id":"a","target":"ffffffff00000000"}}
{"id":5,"jsonrpc":"2.0","method":"submit","params":{"id":"x","job_id":"a","nonce":"00","result":"ff"}}
<{"id":5,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}`,
}

// FuzzStratumMachine feeds JSON-RPC lines in both directions to a Machine.
// Invariants: no panic; a mining verdict, once reached, is never withdrawn
// and its confidence never falls; confidences stay in (0, 1]; the message
// counters add up; metadata stays bounded and numbers stay finite.
func FuzzStratumMachine(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		m := stratum.Machine{PairByOrder: flags&1 != 0, MayBeSwapped: flags&2 != 0}
		var msg jsonrpc.Message
		ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		fed, wasMining, conf := int64(0), false, 0.0
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			dir := packet.Up
			if len(line) > 0 && line[0] == '<' {
				dir, line = packet.Down, line[1:]
			}
			ts = ts.Add(time.Duration(len(line)%7) * time.Second)
			if msg.Parse(line) != nil {
				continue
			}
			m.Feed(dir, &msg, ts)
			fed++
			if flags&4 != 0 && fed == 3 {
				m.ServerRedirect("stratum+tcp://pool.example:3333", ts)
			}
			v := m.Verdict()
			if wasMining && !v.Mining {
				t.Fatalf("verdict withdrawn after message %d", fed)
			}
			if v.Mining {
				if v.Confidence <= 0 || v.Confidence > 1 || v.Confidence < conf {
					t.Fatalf("confidence %v (was %v)", v.Confidence, conf)
				}
				if v.Reason == "" {
					t.Fatal("mining verdict without a reason")
				}
				wasMining, conf = true, v.Confidence
			}
		}
		all, _ := m.Messages()
		if all != fed {
			t.Fatalf("Messages() = %d, fed %d", all, fed)
		}
		md := &m.Meta
		if len(md.Algorithms) > 32 {
			t.Fatalf("%d algorithms kept", len(md.Algorithms))
		}
		for _, x := range []float64{md.Difficulty, md.Hashrate(), md.ReportedHashrate} {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				t.Fatalf("meta number %v: %+v", x, md)
			}
		}
		if md.Accepted < 0 || md.Rejected < 0 || md.Submitted < 0 || md.Jobs < 0 {
			t.Fatalf("negative counters: %+v", md)
		}
	})
}
