"""Test-side helpers for the API server model (apiserver.py): a throwaway PKI made with
the openssl CLI, and a running model with its port, request log and control endpoint.
Python 3 standard library only."""

import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(directory, name):
    """<directory>/<name>.crt and .key: a self-signed CA valid for a day."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "1",
             "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return os.path.join(directory, name + ".crt")


def make_server_cert(directory, name, ca, sans="IP:127.0.0.1,IP:::1,DNS:localhost"):
    """<directory>/<name>.crt and .key: a serving certificate signed by CA `ca`."""
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" % sans)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=kube-apiserver",
             cwd=directory)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-set_serial", str(secrets.randbits(63)), "-days", "1", "-extfile", ext,
             "-out", name + ".crt", cwd=directory)
    return os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")


class Pki:
    """A CA and a serving certificate for 127.0.0.1, ::1 and localhost, in a temp
    directory that remove() deletes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kcm-k8s-pki-")
        self.ca = make_ca(self.dir, "ca")
        self.cert, self.key = make_server_cert(self.dir, "server", "ca")

    def remove(self):
        shutil.rmtree(self.dir)


class PkiTestCase(unittest.TestCase):
    """A test case whose class shares one CA and server certificate (Pki)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.remove()


def write_service_account(directory, token, namespace, ca):
    """What a pod's service account mount holds: token, namespace and the CA's ca.crt."""
    os.mkdir(directory)
    for name, content in (("token", token + "\n"), ("namespace", namespace)):
        with open(os.path.join(directory, name), "w") as f:
            f.write(content)
    shutil.copy(ca, os.path.join(directory, "ca.crt"))


class ApiServer:
    """One apiserver.py process with its own state directory."""

    def __init__(self, state_dir, cert, key, ca, host="127.0.0.1", settings=None):
        self.state_dir, self.ca, self.host = state_dir, ca, host
        os.makedirs(state_dir, exist_ok=True)
        config = os.path.join(state_dir, "config.json")
        with open(config, "w") as f:
            json.dump(settings or {}, f)
        self.stderr = open(os.path.join(state_dir, "stderr"), "w")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "apiserver.py"), "--host", host,
             "--cert", cert, "--key", key, "--state-dir", state_dir, "--config", config],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        port_file = os.path.join(state_dir, "port")
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(state_dir, "stderr")) as f:
                    raise RuntimeError("apiserver.py did not start: " + f.read())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.stderr.close()

    def _control(self, method, path, body=None):
        context = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection(self.host, self.port, context=context, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = json.loads(response.read())
            if response.status != 200:
                raise RuntimeError("control %s: %s" % (path, payload))
            return payload
        finally:
            conn.close()

    def configure(self, **settings):
        self._control("POST", "/_test/config", settings)

    def state(self):
        return self._control("GET", "/_test/state")

    def requests(self):
        """The request log: every API request so far, in order."""
        path = os.path.join(self.state_dir, "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]
