//! Pure parser for the go-plugin handshake line.
