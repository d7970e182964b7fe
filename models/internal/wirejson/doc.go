// Package wirejson reads the few JSON shapes of a model file (objects with
// plain keys, arrays of numbers) without reflection, for the load path
// every detect run takes. It is strict: anything it does not expect (an
// escaped key, null, a number outside JSON's grammar or its Go type's
// range) makes it report failure, and the caller then decodes the same
// bytes with encoding/json, which says what is wrong. So it never accepts
// what encoding/json would refuse, and what it accepts decodes to the
// same values (the same strconv calls).
package wirejson
