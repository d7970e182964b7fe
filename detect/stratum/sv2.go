package stratum

import (
	"encoding/binary"
	"time"

	"github.com/minerwatch/minerwatch/features/packet"
)

// Stratum V2 framing: a 6-byte header — extension_type u16 LE (MSB = channel
// message bit), msg_type u8, msg_length u24 LE — then the payload.
const (
	SV2HeaderLen = 6
	// SV2 message types of the common (setup) protocol.
	SV2SetupConnection        = 0x00
	SV2SetupConnectionSuccess = 0x01
	SV2SetupConnectionError   = 0x02
	// Noise NX handshake sizes: the client's ephemeral key (64 B, EllSwift),
	// the server's reply 64 + 80 + 90 = 234 B.
	SV2NoiseClientHello = 64
	SV2NoiseServerReply = 234
	maxSV2Setup         = 1 << 10
)

// SV2Frame splits the frame at the start of b: message type, payload and
// total frame length; ok is false if b does not hold a whole
// setup-protocol frame (extension 0).
func SV2Frame(b []byte) (msgType uint8, payload []byte, n int, ok bool) {
	if len(b) < SV2HeaderLen || b[0] != 0 || b[1]&0x7f != 0 {
		return 0, nil, 0, false
	}
	l := int(b[3]) | int(b[4])<<8 | int(b[5])<<16
	if len(b) < SV2HeaderLen+l {
		return 0, nil, 0, false
	}
	return b[2], b[SV2HeaderLen : SV2HeaderLen+l], SV2HeaderLen + l, true
}

// LooksLikeSV2Setup reports whether b starts with a plausible plaintext
// SetupConnection header: extension 0, type 0, a small length, protocol
// 0–2, min_version = max_version = 2. It needs only the first 11 bytes.
func LooksLikeSV2Setup(b []byte) bool {
	if len(b) < SV2HeaderLen+5 || b[0] != 0 || b[1] != 0 || b[2] != SV2SetupConnection {
		return false
	}
	l := int(b[3]) | int(b[4])<<8 | int(b[5])<<16
	p := b[SV2HeaderLen:]
	return l >= 13 && l <= maxSV2Setup && p[0] <= 2 &&
		binary.LittleEndian.Uint16(p[1:]) == 2 && binary.LittleEndian.Uint16(p[3:]) == 2
}

// str0255 reads a STR0_255 (u8 length + bytes) at b[i].
func str0255(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || i+1+int(b[i]) > len(b) {
		return nil, 0, false
	}
	return b[i+1 : i+1+int(b[i])], i + 1 + int(b[i]), true
}

// FeedSV2 advances the machine with one complete plaintext Stratum V2
// frame of the setup protocol (see SV2Frame).
func (m *Machine) FeedSV2(dir packet.Direction, msgType uint8, payload []byte, ts time.Time) {
	m.messages++
	m.Meta.touch(ts)
	switch {
	case dir == packet.Up && msgType == SV2SetupConnection && len(payload) >= 9:
		// protocol u8, min u16, max u16, flags u32, endpoint_host, endpoint_port u16,
		// vendor, hardware_version, firmware, device_id.
		host, i, ok := str0255(payload, 9)
		if !ok || i+2 > len(payload) {
			return
		}
		port := binary.LittleEndian.Uint16(payload[i:])
		vendor, i, ok := str0255(payload, i+2)
		if !ok {
			return
		}
		_, i, _ = str0255(payload, i)         // hardware_version
		firmware, i, _ := str0255(payload, i) // firmware
		device, _, _ := str0255(payload, i)
		m.mining++
		m.dialectNm = DialectSV2
		m.client = true
		m.Meta.PoolHost, m.Meta.PoolPort = string(host), port
		if len(vendor) > 0 {
			m.Meta.Agent = string(vendor)
			if len(firmware) > 0 {
				m.Meta.Agent += "/" + string(firmware)
			}
			m.Meta.MinerName, m.Meta.MinerVersion = string(vendor), string(firmware)
		}
		if len(device) > 0 {
			m.Meta.Worker = string(device)
		}
		m.reach(StateHello)
	case dir == packet.Down && m.client && (msgType == SV2SetupConnectionSuccess || msgType == SV2SetupConnectionError):
		m.mining++
		m.server, m.matched = true, true
		if msgType == SV2SetupConnectionSuccess {
			m.reach(StateAuthorized)
		}
	}
	m.decide(ts)
}
