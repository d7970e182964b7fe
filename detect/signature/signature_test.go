package signature_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/internal/flowtest"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/packet"
)

const (
	up   = packet.Up
	down = packet.Down
)

func m(d packet.Direction, s string) flowtest.Msg { return flowtest.Msg{Dir: d, Data: s} }

// Message shapes copied from the captures with `tshark -qz follow,tcp,ascii`.
var (
	// lab/mining/xmrig-plain-3333.pcap: XMRig compact, id first.
	xmrigLogin    = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4FASi45ub7Qe4ZE36UT5G6cU4ud8Fhhe4deS4F3cw9KTAb8dLcukC7edhDQ7cn5d4gEYkbUrMWeWQLGsCmrG6dLaYyNoVKf","pass":"rig01","agent":"XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","rigid":"rig01","algo":["rx/0","rx/wow","cn/r"]}}` + "\n"
	xmrigLoginOK  = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"eb2ac8fe-22eb-43b3-b29f-36e6135486f7","job":{"blob":"1010e0948bd8064693720b18d5d37623ad875180f210b6bc37991db344b82e115ba6e3b48fccf200000000d1b1d401c949712e55c460094cdb2f192d56735f7b99c51c8753d9342356fe9720","job_id":"QKGGhgBRiXgasGfS","target":"0d74da00","algo":"rx/0","height":3612345,"seed_hash":"e67d1a523d6f28789642926119df620fe351a996eb2561ed8da9fe2d8a583b3b","id":"eb2ac8fe-22eb-43b3-b29f-36e6135486f7"},"extensions":["algo","nicehash","connect","tls","keepalive"],"status":"OK"}}` + "\n"
	xmrigSubmit   = `{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"eb2ac8fe-22eb-43b3-b29f-36e6135486f7","job_id":"QKGGhgBRiXgasGfS","nonce":"ae000000","result":"55d048653b04a1a84ff8e4c2d73dac16be0c24b0020cef95f18a99a1b2683200","algo":"rx/0"}}` + "\n"
	xmrigSubmitOK = `{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}` + "\n"
	xmrigJob      = `{"jsonrpc":"2.0","method":"job","params":{"blob":"10108c958bd8060ca1cd88a5fe8406ab192a047427cd5e077deb573b2b713f4133c61603a28df000000000ff135c515f4667b791b32ea5223c62bf6ba473e434e4b2067b020252985f1b741a","job_id":"MBpJtSn1vzvaCHGc","target":"0d74da00","algo":"rx/0","height":3612346}}` + "\n"

	// public/mining/ntop_nDPI__mining.pcapng: xmr-stak-cpu, method first, no jsonrpc.
	stakLogin  = `{"method":"login","params":{"login":"4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm.ryzen","pass":"x","agent":"xmr-stak-cpu/1.3.0-1.5.0"},"id":1}` + "\n"
	stakLogOK  = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"479059546883218","job":{"blob":"0606e89883d205a65d8ee78991838a1cf3ec2ebbc5fb1fa43dec5fa1cd2bee4069212a549cd731000000005a88235653097aa3e97ef2ceef4aee610751a828f9be1a0758a78365fb0a4c8c05","job_id":"722134174127131","target":"dc460300"},"status":"OK"}}` + "\n"
	stakSubmit = `{"method":"submit","params":{"id":"479059546883218","job_id":"722134174127131","nonce":"98024001","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"},"id":1}` + "\n"

	// lab/mining/cpuminer-stratum.pcap: cpuminer, spaced keys.
	cpuSubscribe   = `{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}` + "\n"
	cpuSubscribeOK = `{"id":1,"result":[[["mining.set_difficulty","c4a7ebe3"],["mining.notify","c4a7ebe3"]],"8ef93272",4],"error":null}` + "\n"
	cpuAuthorize   = `{"id": 2, "method": "mining.authorize", "params": ["bc1q7k4xg0m5l9z3lfmw8h2y6c5wz0t3s8r4p2e9qd.rig04", "x"]}` + "\n"
	cpuAuthOK      = `{"id":2,"result":true,"error":null}` + "\n"
	cpuSetDiff     = `{"id":null,"method":"mining.set_difficulty","params":[0.02]}` + "\n"
	cpuNotify      = `{"id":null,"method":"mining.notify","params":["6b020001","ef70dc6a9946ff38e728194950f15a611e4244ec000038980000000000000000","0200000001","2f6d6f636b",[],"20000000","1703a5d6","65a1b2c3",true]}` + "\n"
	// cgminer puts params first in submits (PROTOCOLS.md).
	cgSubmit   = `{"params": ["user.worker", "6b020001", "00000000", "65a1b2c3", "a1b2c3d4"], "id": 4, "method": "mining.submit"}` + "\n"
	cgSubmitOK = `{"id":4,"result":true,"error":null}` + "\n"

	// public/mining/ntop_nDPI__ethereum@c6b427c.pcap: Claymore spaced, eth-proxy.
	ethLogin   = `{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0x0fccfff9e61a230ff380530c6827caf4759337c6.rig2", "x"], "id": 2, "method": "eth_submitLogin"}` + "\n"
	ethLoginOK = `{"id":2,"jsonrpc":"2.0","result":true}` + "\n"
	ethGetWork = `{"worker": "", "jsonrpc": "2.0", "params": [], "id": 3, "method": "eth_getWork"}` + "\n"
	ethWork    = `{"id":3,"jsonrpc":"2.0","result":["0x22b597d7bf24ef9a605a5d4fb6f7e155b7d0ce28ba6a9aa9eda6b74b34685d71","0x88615dc9f6fe84975a471ca044adecdfde8c8fcdde97d2a3416254d590c52d0c","0x0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba","0x492609"]}` + "\n"

	// public/mining/ntop_nDPI__mining.pcapng: EWBF Zcash (Equihash Stratum).
	zecSubscribe   = `{"id":1,"method":"mining.subscribe","params":["EWBF 0.3.4b",null,"eu1-zcash.flypool.org","3333"]}` + "\n"
	zecSubscribeOK = `{"id":1,"result":["04d567b212", "04d567b212"], "error": null}` + "\n"

	// NiceHash EthereumStratum/1.0.0 (PROTOCOLS.md shapes).
	es1Subscribe   = `{"id": 1, "method": "mining.subscribe", "params": ["ethminer/0.19.0", "EthereumStratum/1.0.0"]}` + "\n"
	es1SubscribeOK = `{"id": 1, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "080c"], "error": null}` + "\n"
	es1Notify      = `{"id": null, "method": "mining.notify", "params": ["bf0488aa", "abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c", "645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc", true]}` + "\n"

	// EthereumStratum/2.0.0 (EIP-1571 examples).
	es2Hello   = `{"id":0,"jsonrpc":"2.0","method":"mining.hello","params":{"agent":"ethminer-0.17","host":"somemininigpool.com","port":"4d2","proto":"EthereumStratum/2.0.0"}}` + "\n"
	es2HelloOK = `{"id":0,"jsonrpc":"2.0","result":{"proto":"EthereumStratum/2.0.0","encoding":"gzip","resume":1,"timeout":30,"maxerrors":5,"node":"Geth/v1.8.18"}}` + "\n"

	// public/mining/nesfit cgminer captures: getwork over HTTP.
	getworkReq  = "POST / HTTP/1.1\r\nAuthorization: Basic Qml0Y29pbjp4\r\nHost: pool.example:8332\r\nContent-type: application/json\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\nContent-Length: 44\r\nUser-Agent: cgminer 3.7.2\r\n\r\n" + `{"method": "getwork", "params": [], "id": 0}`
	getworkBody = `{"result":{"data":"00000001d915b8fd2face61c6b6b2e29b2b0d4ad2ec8ba62d2d2d2d2d2d2d2d2","target":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000"},"error":null,"id":0}`
	getworkRes  = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n", len(getworkBody)-20) + getworkBody[:len(getworkBody)-20] + "\r\n" + fmt.Sprintf("%x\r\n", 20) + getworkBody[len(getworkBody)-20:] + "\r\n0\r\n\r\n"
)

type dialectCase struct {
	name    string
	msgs    []flowtest.Msg
	dialect string
	conf    float64
	check   func(t *testing.T, v signature.Verdict)
}

func dialectCases() []dialectCase {
	return []dialectCase{
		{"xmrig login, job, submit, accepted", []flowtest.Msg{m(up, xmrigLogin), m(down, xmrigLoginOK), m(up, xmrigSubmit), m(down, xmrigSubmitOK)},
			stratum.DialectCryptoNote, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				md := v.Meta
				if md.MinerName != "XMRig" || md.MinerVersion != "6.26.0" || md.MinerOS != "Linux" || md.Coin != "XMR" || md.Worker != "rig01" {
					t.Errorf("meta = %+v", md)
				}
				// target 0d74da00 (LE) = 0x00da740d = 14316557; 2^32/14316557 ≈ 300.0
				if md.Difficulty < 299 || md.Difficulty > 301 || md.Accepted != 1 || md.Submitted != 1 || len(md.Algorithms) != 3 {
					t.Errorf("difficulty %v accepted %d submitted %d algos %v", md.Difficulty, md.Accepted, md.Submitted, md.Algorithms)
				}
				if v.Reason != "cryptonote: hello → authorized → job → submit → accepted" {
					t.Errorf("reason %q", v.Reason)
				}
			}},
		{"xmr-stak method first without jsonrpc", []flowtest.Msg{m(up, stakLogin), m(down, stakLogOK), m(up, stakSubmit)},
			stratum.DialectCryptoNote, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.MinerName != "xmr-stak-cpu" || v.Meta.Coin != "XMR" || v.Meta.Worker != "ryzen" {
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"cpuminer subscribe, authorize, notify, cgminer-style submit", []flowtest.Msg{m(up, cpuSubscribe), m(down, cpuSubscribeOK), m(up, cpuAuthorize), m(down, cpuAuthOK), m(down, cpuSetDiff), m(down, cpuNotify), m(up, cgSubmit), m(down, cgSubmitOK)},
			stratum.DialectStratumV1, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				md := v.Meta
				if md.MinerName != "cpuminer" || md.Coin != "BTC" || md.Worker != "rig04" || md.Difficulty != 0.02 || md.Jobs != 1 || md.Accepted != 1 {
					t.Errorf("meta = %+v", md)
				}
			}},
		{"claymore eth-proxy login and work", []flowtest.Msg{m(up, ethLogin), m(down, ethLoginOK), m(up, ethGetWork), m(down, ethWork)},
			stratum.DialectEthProxy, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.Coin != "ETH" || v.Meta.Worker != "eth1.0" || v.Meta.Jobs != 1 {
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"equihash subscribe with pool host", []flowtest.Msg{m(up, zecSubscribe), m(down, zecSubscribeOK)},
			stratum.DialectStratumV1, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.PoolHost != "eu1-zcash.flypool.org" || v.Meta.PoolPort != 3333 || v.Meta.MinerName != "EWBF" {
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"ethereumstratum 1.0.0", []flowtest.Msg{m(up, es1Subscribe), m(down, es1SubscribeOK), m(down, es1Notify)},
			stratum.DialectEthStratum1, stratum.ConfidenceConfirmed, nil},
		{"ethereumstratum 2.0.0 hello", []flowtest.Msg{m(up, es2Hello), m(down, es2HelloOK)},
			stratum.DialectEthStratum2, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.PoolPort != 1234 || v.Meta.PoolHost != "somemininigpool.com" { // port "4d2" hex = 1234
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"getwork over http with chunked reply", []flowtest.Msg{m(up, getworkReq), m(down, getworkRes)},
			stratum.DialectGetwork, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.MinerName != "cgminer" || v.Meta.MinerVersion != "3.7.2" || v.Meta.PoolHost != "pool.example:8332" {
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"stratum v2 plaintext setup connection", []flowtest.Msg{m(up, sv2Setup()), m(down, sv2Success())},
			stratum.DialectSV2, stratum.ConfidenceConfirmed, func(t *testing.T, v signature.Verdict) {
				if v.Meta.PoolHost != "pool.example" || v.Meta.PoolPort != 34254 || v.Meta.MinerName != "Bitmain" {
					t.Errorf("meta = %+v", v.Meta)
				}
			}},
		{"stratum v2 noise handshake sizes", []flowtest.Msg{m(up, strings.Repeat("\x8a", 64)), m(down, strings.Repeat("\x17", 234))},
			stratum.DialectSV2Noise, stratum.ConfidenceNoise, nil},
	}
}

// sv2Setup builds a SetupConnection frame per the Stratum V2 spec layout.
func sv2Setup() string {
	s0255 := func(s string) string { return string(rune(len(s))) + s }
	p := "\x00" + "\x02\x00" + "\x02\x00" + "\x01\x00\x00\x00" + s0255("pool.example") + "\xce\x85" + // 34254 LE
		s0255("Bitmain") + s0255("S19") + s0255("2.1.0") + s0255("rig-7")
	return "\x00\x00\x00" + string([]byte{byte(len(p)), 0, 0}) + p
}

func sv2Success() string { return "\x00\x00\x01\x06\x00\x00" + "\x02\x00" + "\x00\x00\x00\x00" }

// TestDialectsAreRecognisedWholeAndSplit feeds each dialect's real message
// shapes whole, split into 7-byte segments, and one byte at a time.
func TestDialectsAreRecognisedWholeAndSplit(t *testing.T) {
	for _, tc := range dialectCases() {
		for _, seg := range []int{0, 7, 1} {
			if seg > 0 && strings.Contains(tc.dialect, "noise") {
				continue // the Noise rule is about whole first payloads
			}
			f := signature.New(signature.DefaultConfig(), nil)
			flowtest.Script{Segment: seg}.Run(f, tc.msgs)
			v := f.Verdict()
			if !v.Mining || v.Dialect != tc.dialect || v.Confidence != tc.conf {
				t.Errorf("%s (segment %d): verdict %v %q %.2f, want %q %.2f (reason %q)", tc.name, seg, v.Mining, v.Dialect, v.Confidence, tc.dialect, tc.conf, v.Reason)
				continue
			}
			if tc.check != nil {
				tc.check(t, v)
			}
			f.Close()
		}
	}
}

// TestMidSessionCaptureIsRecognised: no login, no SYN — only jobs and submits.
func TestMidSessionCaptureIsRecognised(t *testing.T) {
	cases := []struct {
		name string
		msgs []flowtest.Msg
	}{
		{"cryptonote job push then submit", []flowtest.Msg{m(down, xmrigJob), m(up, xmrigSubmit), m(down, xmrigSubmitOK)}},
		{"submit and accepted only", []flowtest.Msg{m(up, xmrigSubmit), m(down, xmrigSubmitOK)}},
		// The first sender is the server (its notify), so the flow's
		// "client" guess is wrong; the machine swaps roles.
		{"server speaks first, roles swapped", []flowtest.Msg{m(up, cpuNotify), m(down, cgSubmit), m(up, cgSubmitOK)}},
		{"capture starts mid-line", []flowtest.Msg{m(up, `0000"}}`+"\n"+xmrigSubmit), m(down, xmrigSubmitOK)}},
	}
	for _, tc := range cases {
		f := signature.New(signature.DefaultConfig(), nil)
		flowtest.Script{MidSession: true, Segment: 50}.Run(f, tc.msgs)
		if v := f.Verdict(); !v.Mining {
			t.Errorf("%s: not recognised (state %q)", tc.name, v.State)
		}
	}
}

// TestNearMissesDoNotFire: mining words inside other protocols, plain
// JSON-RPC, and one-sided mining requests never give a verdict.
func TestNearMissesDoNotFire(t *testing.T) {
	cases := []struct {
		name    string
		msgs    []flowtest.Msg
		attempt bool
	}{
		{"ethereum node eth_blockNumber over http", []flowtest.Msg{
			m(up, "POST / HTTP/1.1\r\nHost: localhost:8545\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"+`{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":83}`),
			m(down, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n"+`{"jsonrpc":"2.0","id":83,"result":"0x4b7"}`)}, false},
		{"lsp with content-length", []flowtest.Msg{
			m(up, "Content-Length: 59\r\n\r\n"+`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`),
			m(down, "Content-Length: 47\r\n\r\n"+`{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}`)}, false},
		{"wallet rpc", []flowtest.Msg{
			m(up, `{"jsonrpc":"2.0","id":"0","method":"get_balance","params":{"account_index":0}}`+"\n"),
			m(down, `{"id":"0","jsonrpc":"2.0","result":{"balance":157443303037455077,"unlocked_balance":157360317826255077}}`+"\n")}, false},
		{"postgres row containing mining.notify", []flowtest.Msg{
			m(up, "Q\x00\x00\x00\x1eSELECT note FROM t LIMIT 1;\x00"),
			m(down, "T\x00\x00\x00\x1d\x00\x01note\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00D\x00\x00\x00\x2d\x00\x01\x00\x00\x00\x23"+`{"method":"mining.notify","params":[]}`)}, false},
		{"redis value containing mining.notify", []flowtest.Msg{
			m(up, "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"),
			m(down, "$62\r\n"+`{"id":null,"method":"mining.notify","params":["a","b","c","d"]}`+"\r\n")}, false},
		{"lone mining.subscribe with no answer", []flowtest.Msg{m(up, cpuSubscribe)}, true},
		{"mining.subscribe answered by a 400", []flowtest.Msg{m(up, cpuSubscribe), m(down, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")}, true},
		{"server-only pushes", []flowtest.Msg{m(down, cpuNotify), m(down, cpuSetDiff)}, false},
		{"method name in a string of another message", []flowtest.Msg{
			m(up, `{"id":1,"method":"log","params":["mining.subscribe login submit"]}`+"\n"),
			m(down, `{"id":1,"result":"mining.notify"}`+"\n")}, false},
	}
	for _, tc := range cases {
		f := signature.New(signature.DefaultConfig(), nil)
		flowtest.Script{Segment: 13}.Run(f, tc.msgs)
		v := f.Verdict()
		if v.Mining {
			t.Errorf("%s: false verdict %q", tc.name, v.Reason)
		}
		if v.Attempt != tc.attempt {
			t.Errorf("%s: attempt = %v, want %v", tc.name, v.Attempt, tc.attempt)
		}
		// An attempt names the dialect of its requests (its alert's rule
		// id depends on it); anything else names none.
		if want := map[bool]string{true: "stratum-v1"}[tc.attempt]; v.Dialect != want {
			t.Errorf("%s: dialect %q, want %q", tc.name, v.Dialect, want)
		}
	}
}

// TestSOCKS5PreambleRecordsTheRealTarget: lab/mining/xmrig-socks5-1080.pcap shape
// (microsocks: no-auth greeting, CONNECT by IPv4, then plaintext Stratum).
func TestProxyPreamblesRecordTheRealTarget(t *testing.T) {
	socks5 := []flowtest.Msg{
		m(up, "\x05\x01\x00"), m(down, "\x05\x00"),
		m(up, "\x05\x01\x00\x01\x0a\xcb\x09\x01\x0d\x05"), // 10.203.9.1:3333
		m(down, "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
		m(up, xmrigLogin), m(down, xmrigLoginOK)}
	connect := []flowtest.Msg{
		m(up, "CONNECT pool.example:3333 HTTP/1.1\r\nHost: pool.example:3333\r\n\r\n"),
		m(down, "HTTP/1.1 200 Connection established\r\n\r\n"),
		m(up, cpuSubscribe), m(down, cpuSubscribeOK)}
	socks4a := []flowtest.Msg{
		m(up, "\x04\x01\x0d\x05\x00\x00\x00\x01\x00pool.example\x00"),
		m(down, "\x00\x5a\x00\x00\x00\x00\x00\x00"),
		m(up, xmrigLogin), m(down, xmrigLoginOK)}
	for _, tc := range []struct {
		name, kind, host string
		msgs             []flowtest.Msg
	}{{"socks5", "socks5", "10.203.9.1", socks5}, {"http connect", "http-connect", "pool.example", connect}, {"socks4a", "socks4a", "pool.example", socks4a}} {
		for _, seg := range []int{0, 3} {
			f := signature.New(signature.DefaultConfig(), nil)
			flowtest.Script{Segment: seg}.Run(f, tc.msgs)
			v := f.Verdict()
			var p alert.Proxy
			if !v.Mining || !v.FillProxy(&p) || p.Kind != tc.kind || p.TargetHost != tc.host || p.TargetPort != 3333 {
				t.Errorf("%s/%d: mining %v proxy %+v", tc.name, seg, v.Mining, p)
			}
		}
	}
}

// TestSharesKeepCountingAfterTheVerdict: after a verdict the flow is
// followed in order only, and shares still update the metadata.
func TestSharesKeepCountingAfterTheVerdict(t *testing.T) {
	msgs := []flowtest.Msg{m(up, xmrigLogin), m(down, xmrigLoginOK)}
	for i := 0; i < 20; i++ {
		msgs = append(msgs, m(up, xmrigSubmit), m(down, xmrigSubmitOK))
	}
	f := signature.New(signature.DefaultConfig(), nil)
	flowtest.Script{}.Run(f, msgs)
	v := f.Verdict()
	var a alert.Mining
	v.FillMining(&a)
	// 20 accepted shares at difficulty ≈300 over 41 s (messages 1 s apart,
	// the first at 0 s, the last accepted at 41 s): ≈146 H/s.
	if a.SharesAccepted != 20 || a.HashrateHs < 140 || a.HashrateHs > 150 || !f.Decided() {
		t.Errorf("accepted %d hashrate %.1f decided %v", a.SharesAccepted, a.HashrateHs, f.Decided())
	}
}

// TestCloseReturnsMemoryToTheBudget.
func TestCloseReturnsMemoryToTheBudget(t *testing.T) {
	b := reassembly.NewBudget(1 << 20)
	f := signature.New(signature.DefaultConfig(), b)
	p := packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, Seq: 5000, Payload: []byte("later bytes"), PayloadLen: 11}
	f.Packet(&packet.Packet{Proto: packet.ProtoTCP, HasTCP: true, Seq: 1000, Payload: []byte("{"), PayloadLen: 1}, up)
	f.Packet(&p, up) // out of order: held
	if b.Stats().InUse == 0 {
		t.Fatal("out-of-order bytes were not charged to the budget")
	}
	f.Close()
	if b.Stats().InUse != 0 {
		t.Errorf("budget holds %d bytes after Close", b.Stats().InUse)
	}
}

// TestHostileFlowStaysWithinItsMemoryCap: one endless line in tiny
// segments, plus a flood of out-of-order segments, never holds more than
// the configured caps.
func TestHostileFlowStaysWithinItsMemoryCap(t *testing.T) {
	cfg := signature.DefaultConfig()
	cfg.Stream.MaxBytes = 0 // no delivery cap: only the line and buffer caps bound memory
	budget := reassembly.NewBudget(1 << 30)
	f := signature.New(cfg, budget)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	seg := []byte(`{"a":"xxxxxxx`)
	p := packet.Packet{Proto: packet.ProtoTCP, HasTCP: true}
	seq := uint32(1)
	for i := 0; i < 1_000_000; i++ {
		p.Seq, p.Payload, p.PayloadLen = seq, seg, len(seg)
		if i%5000 == 4999 { // now and then a segment arrives far ahead of its place
			p.Seq = seq + 100_000 + uint32(i)
		} else {
			seq += uint32(len(seg))
		}
		f.Packet(&p, up)
		if b := budget.Stats().InUse; b > int64(cfg.Stream.MaxBuffered) {
			t.Fatalf("segment %d: %d bytes held > cap %d", i, b, cfg.Stream.MaxBuffered)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Errorf("heap grew by %d bytes over 13 MB of hostile input", grown)
	}
	if st := f.Stats(); st.OversizedLines == 0 || st.SkippedBytes < 12_000_000 {
		t.Errorf("stats %+v: the endless line was not skipped and counted", st)
	}
	f.Close()
	if budget.Stats().InUse != 0 {
		t.Errorf("budget holds %d after Close", budget.Stats().InUse)
	}
}

// TestNoiseRuleNeedsBothFirstPayloads: the Stratum V2 Noise rule holds
// only for the client's first payload of 64 bytes answered by the
// server's first payload of 234 (stratum.SV2NoiseClientHello and
// SV2NoiseServerReply) with no other client payload between; the flow
// keeps this state in a few bits, so each way of breaking it is checked.
func TestNoiseRuleNeedsBothFirstPayloads(t *testing.T) {
	hello, reply := strings.Repeat("\x8a", 64), strings.Repeat("\x17", 234)
	for _, tc := range []struct {
		name  string
		msgs  []flowtest.Msg
		noise bool
	}{
		{"hello then reply", []flowtest.Msg{m(up, hello), m(down, reply)}, true},
		{"another client payload first", []flowtest.Msg{m(up, hello), m(up, "\x8a\x8a"), m(down, reply)}, false},
		{"client hello one byte short", []flowtest.Msg{m(up, hello[1:]), m(down, reply)}, false},
		{"reply is the server's second payload", []flowtest.Msg{m(up, hello), m(down, "\x17\x17"), m(down, reply)}, false},
		{"server speaks first", []flowtest.Msg{m(down, reply), m(up, hello), m(down, reply)}, false},
	} {
		f := signature.New(signature.DefaultConfig(), nil)
		flowtest.Script{}.Run(f, tc.msgs)
		if v := f.Verdict(); (v.Dialect == stratum.DialectSV2Noise) != tc.noise {
			t.Errorf("%s: dialect %q mining %v, want noise %v", tc.name, v.Dialect, v.Mining, tc.noise)
		}
		f.Close()
	}
}
