"""A plugin that prints a certificate it does not hold: the host's own (from PLUGIN_CLIENT_CERT),
while its TLS server presents another certificate (HECTOR_TEST_TLS_CERT and HECTOR_TEST_TLS_KEY,
PEM files). The host must refuse it (docs/protocol.md §3.5)."""

from __future__ import annotations

import base64
import os
import socket
import ssl
import sys
import time


def main() -> None:
    printed = ssl.PEM_cert_to_DER_cert(os.environ["PLUGIN_CLIENT_CERT"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["HECTOR_TEST_TLS_CERT"], os.environ["HECTOR_TEST_TLS_KEY"])
    context.set_alpn_protocols(["h2"])
    path = os.path.join(os.environ["PLUGIN_UNIX_SOCKET_DIR"], "impostor.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    field = base64.b64encode(printed).decode().rstrip("=")
    sys.stdout.write(f"1|1|unix|{path}|grpc|{field}\n")
    sys.stdout.flush()
    while True:
        connection, _ = listener.accept()
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError) as error:
            print(f"TLS handshake failed: {error}", file=sys.stderr, flush=True)
        time.sleep(0.01)


if __name__ == "__main__":
    main()
