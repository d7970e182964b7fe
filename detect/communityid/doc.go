// Package communityid computes Community ID v1 flow hashes
// (https://github.com/corelight/community-id-spec), the string Zeek,
// Suricata, Arkime and Elastic write for a connection so their records of
// the same connection can be joined.
//
// The hash is direction-free: both endpoints are ordered before hashing,
// so client→server and server→client give the same ID.
//
//	id, ok := communityid.Hash(0, 6, client, server) // "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
//
// ICMP and ICMPv6 need the message type and code, which minerwatch's flow
// key does not keep: for them Hash reports !ok and callers omit the field.
package communityid
