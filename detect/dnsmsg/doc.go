// Package dnsmsg parses DNS messages (RFC 1035) just far enough for threat
// intelligence: the header, the question names, and A/AAAA/CNAME answers
// with their TTLs. It decodes into a reused Message, so parsing a packet
// allocates nothing once the Message's buffers have grown, and it never
// panics on hostile bytes: compression pointers may only point backwards
// (which rules out loops), names are capped at 255 bytes, and section
// counts are capped.
//
// DNS over TCP prefixes each message with a 2-byte length; Stream splits
// an in-order byte stream delivered in arbitrary chunks into messages.
//
// Example:
//
//	var m dnsmsg.Message
//	if err := dnsmsg.Parse(udpPayload, &m); err == nil {
//		for _, q := range m.Questions {
//			fmt.Println(string(q.Name)) // "pool.supportxmr.com"
//		}
//		for _, rr := range m.Answers {
//			if rr.Type == dnsmsg.TypeA {
//				fmt.Println(string(rr.Name), rr.Addr, rr.TTL)
//			}
//		}
//	}
package dnsmsg
