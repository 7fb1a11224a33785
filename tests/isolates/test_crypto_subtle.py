"""crypto.subtle inside the sandbox: known answers, the spec's errors, keys made at the top level, fuel."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from isolates import CpuLimitExceeded, InvalidCode, Limits
from tests.isolates.conftest import run_js

HELPERS = """
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h) => new Uint8Array((h.match(/../g) || []).map((x) => parseInt(x, 16)));
const utf8 = (s) => new TextEncoder().encode(s);
"""


def subtle(body: str, **request: object) -> object:
    """The value of an async function body run in a handler; a thrown error becomes {thrown: name}."""
    source = HELPERS + (
        "module.exports = async function (ctx, cb) {\n"
        f"  try {{ cb(null, await (async () => {{ {body} }})()); }}\n"
        "  catch (e) { cb(null, { thrown: e.name, message: e.message }); }\n"
        "};"
    )
    return run_js(source, **request).value


def test_digest_matches_the_nist_sha_vectors() -> None:
    assert subtle("""
        const out = {};
        for (const name of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) out[name] = hex(await crypto.subtle.digest(name, utf8("abc")));
        return out;
    """) == {name.upper(): getattr(hashlib, name.replace("-", "").lower())(b"abc").hexdigest()
             for name in ("sha-1", "sha-256", "sha-384", "sha-512")}


def test_hmac_matches_rfc_4231() -> None:
    assert subtle("""
        const jefe = await crypto.subtle.importKey("raw", utf8("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const case1 = await crypto.subtle.importKey("raw", new Uint8Array(20).fill(0x0b), { name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
        return [hex(await crypto.subtle.sign("HMAC", jefe, utf8("what do ya want for nothing?"))),
                hex(await crypto.subtle.sign("HMAC", case1, utf8("Hi There")))];
    """) == [
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    ]


def test_a_webhook_signature_is_verified_against_the_raw_body() -> None:
    body = b'{"action":"opened","number":42}'
    signature = hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()
    source = HELPERS + """
    export default {
      async fetch(request, env) {
        const key = await crypto.subtle.importKey("raw", utf8(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
        const signature = bytes(request.headers.get("x-hub-signature-256").replace("sha256=", ""));
        const ok = await crypto.subtle.verify("HMAC", key, signature, await request.arrayBuffer());
        return new Response(ok ? "verified" : "forged", { status: ok ? 200 : 401 });
      },
    };"""
    for sent, expected in ((signature, "verified"), ("00" * 32, "forged")):
        result = run_js(source, method="POST", body=body, secrets={"WEBHOOK_SECRET": "whsec_test"},
                        headers=[("x-hub-signature-256", "sha256=" + sent)])
        assert result.body == expected.encode()


def test_aes_gcm_cbc_ctr_match_the_nist_vectors() -> None:
    assert subtle("""
        const key = (hexKey, name) => crypto.subtle.importKey("raw", bytes(hexKey), name, true, ["encrypt", "decrypt"]);
        const zero = await key("00000000000000000000000000000000", "AES-GCM");
        const gcm = hex(await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, zero, new Uint8Array(16)));
        const k = "2b7e151628aed2a6abf7158809cf4f3c", block = bytes("6bc1bee22e409f96e93d7e117393172a");
        const cbc = hex(await crypto.subtle.encrypt({ name: "AES-CBC", iv: bytes("000102030405060708090a0b0c0d0e0f") }, await key(k, "AES-CBC"), block));
        const ctr = hex(await crypto.subtle.encrypt({ name: "AES-CTR", counter: bytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), length: 64 }, await key(k, "AES-CTR"), block));
        return [gcm, cbc.slice(0, 32), cbc.length / 2, ctr];
    """) == [
        "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",  # GCM spec test case 2
        "7649abac8119b246cee98e9b12e9197d", 32,  # SP 800-38A F.2.1, then a block of PKCS#7 padding
        "874d6191b620e3261bef6864990db6ce",  # SP 800-38A F.5.1
    ]


def test_aes_gcm_round_trips_with_additional_data_and_refuses_a_tampered_ciphertext() -> None:
    assert subtle("""
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        const params = { name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)), additionalData: utf8("v1"), tagLength: 96 };
        const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, utf8("attack at dawn")));
        const opened = new TextDecoder().decode(await crypto.subtle.decrypt(params, key, sealed));
        sealed[0] ^= 1;
        const tampered = await crypto.subtle.decrypt(params, key, sealed).then(() => "opened", (e) => e.name);
        return [sealed.length, opened, tampered];
    """) == [14 + 12, "attack at dawn", "OperationError"]


def test_ed25519_matches_rfc_8032() -> None:
    assert subtle("""
        const pkcs8 = bytes("302e020100300506032b657004220420" + "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
        const publicKey = await crypto.subtle.importKey("raw", bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), "Ed25519", true, ["verify"]);
        const signature = await crypto.subtle.sign("Ed25519", privateKey, new Uint8Array(0));
        const jwk = await crypto.subtle.exportKey("jwk", privateKey);
        return [hex(signature), await crypto.subtle.verify("Ed25519", publicKey, signature, new Uint8Array(0)),
                await crypto.subtle.verify("Ed25519", publicKey, signature, new Uint8Array(1)), jwk.kty, jwk.crv, jwk.x];
    """) == [
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        True, False, "OKP", "Ed25519", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    ]


def test_x25519_matches_rfc_7748() -> None:
    assert subtle("""
        const alice = await crypto.subtle.importKey("pkcs8", bytes("302e020100300506032b656e04220420" + "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), "X25519", false, ["deriveBits"]);
        const bob = await crypto.subtle.importKey("raw", bytes("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), "X25519", true, []);
        return hex(await crypto.subtle.deriveBits({ name: "X25519", public: bob }, alice, 256));
    """) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


def test_pbkdf2_and_hkdf_match_their_vectors_and_derive_keys() -> None:
    assert subtle("""
        const password = await crypto.subtle.importKey("raw", utf8("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
        const pbkdf2 = hex(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 4096 }, password, 256));
        const ikm = await crypto.subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits"]);
        const hkdf = hex(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: bytes("000102030405060708090a0b0c"), info: bytes("f0f1f2f3f4f5f6f7f8f9") }, ikm, 336));
        const aes = await crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 1 }, password, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
        return [pbkdf2, hkdf, aes.algorithm, hex(await crypto.subtle.exportKey("raw", aes))];
    """) == [
        "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",  # RFC 5869 A.1
        {"name": "AES-GCM", "length": 128},
        "120fb6cffcf8b32c43e7225256c4f837",
    ]


def test_aes_kw_wraps_a_key_as_rfc_3394_says_and_unwraps_it() -> None:
    assert subtle("""
        const kek = await crypto.subtle.importKey("raw", bytes("000102030405060708090a0b0c0d0e0f"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
        const key = await crypto.subtle.importKey("raw", bytes("00112233445566778899aabbccddeeff"), "AES-GCM", true, ["encrypt"]);
        const wrapped = await crypto.subtle.wrapKey("raw", key, kek, "AES-KW");
        const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["decrypt"]);
        return [hex(wrapped), hex(await crypto.subtle.exportKey("raw", unwrapped)), unwrapped.usages];
    """) == ["1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5", "00112233445566778899aabbccddeeff", ["decrypt"]]


def test_ecdsa_verifies_what_openssl_signed_and_keys_round_trip_through_every_format() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).hex()
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).hex()
    r, s = decode_dss_signature(private.sign(b"message", ec.ECDSA(hashes.SHA384())))
    signature = (r.to_bytes(48, "big") + s.to_bytes(48, "big")).hex()
    assert subtle(f"""
        const algorithm = {{ name: "ECDSA", namedCurve: "P-384" }}, sha384 = {{ name: "ECDSA", hash: "SHA-384" }};
        const publicKey = await crypto.subtle.importKey("spki", bytes("{spki}"), algorithm, true, ["verify"]);
        const privateKey = await crypto.subtle.importKey("pkcs8", bytes("{pkcs8}"), algorithm, true, ["sign"]);
        const ours = await crypto.subtle.sign(sha384, privateKey, utf8("message"));
        const jwk = await crypto.subtle.exportKey("jwk", privateKey);
        const fromJwk = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
        const raw = await crypto.subtle.exportKey("raw", publicKey);
        const fromRaw = await crypto.subtle.importKey("raw", raw, algorithm, true, ["verify"]);
        return [await crypto.subtle.verify(sha384, publicKey, bytes("{signature}"), utf8("message")),
                await crypto.subtle.verify(sha384, fromRaw, await crypto.subtle.sign(sha384, fromJwk, utf8("m")), utf8("m")),
                await crypto.subtle.verify(sha384, publicKey, ours, utf8("other")),
                hex(await crypto.subtle.exportKey("spki", fromRaw)) === "{spki}", publicKey.algorithm, jwk.crv];
    """) == [True, True, False, True, {"name": "ECDSA", "namedCurve": "P-384"}, "P-384"]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def test_rsa_verifies_pkcs1_and_pss_signatures_and_signs_what_openssl_verifies(rsa_key: rsa.RSAPrivateKey) -> None:
    spki = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).hex()
    pkcs8 = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).hex()
    pkcs1 = rsa_key.sign(b"message", padding.PKCS1v15(), hashes.SHA256()).hex()
    pss = rsa_key.sign(b"message", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()).hex()
    value = subtle(f"""
        const pkcs1 = {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }}, pss = {{ name: "RSA-PSS", hash: "SHA-256" }};
        const pkcs1Key = await crypto.subtle.importKey("spki", bytes("{spki}"), pkcs1, true, ["verify"]);
        const pssKey = await crypto.subtle.importKey("spki", bytes("{spki}"), pss, true, ["verify"]);
        const signer = await crypto.subtle.importKey("pkcs8", bytes("{pkcs8}"), pkcs1, true, ["sign"]);
        const jwk = await crypto.subtle.exportKey("jwk", pkcs1Key);
        return [await crypto.subtle.verify(pkcs1, pkcs1Key, bytes("{pkcs1}"), utf8("message")),
                await crypto.subtle.verify({{ name: "RSA-PSS", saltLength: 32 }}, pssKey, bytes("{pss}"), utf8("message")),
                await crypto.subtle.verify(pkcs1, pkcs1Key, bytes("{pkcs1}"), utf8("massage")),
                hex(await crypto.subtle.sign(pkcs1, signer, utf8("ours"))),
                pkcs1Key.algorithm.modulusLength, Array.from(pkcs1Key.algorithm.publicExponent), jwk.alg, jwk.e];
    """)
    assert isinstance(value, list)
    assert value[:3] == [True, True, False]
    rsa_key.public_key().verify(bytes.fromhex(value[3]), b"ours", padding.PKCS1v15(), hashes.SHA256())
    assert value[4:] == [2048, [1, 0, 1], "RS256", "AQAB"]


@pytest.mark.parametrize(("body", "name"), [
    ('await crypto.subtle.digest("MD5", new Uint8Array(1))', "NotSupportedError"),
    ('await crypto.subtle.digest({}, new Uint8Array(1))', "TypeError"),
    ('await crypto.subtle.digest("SHA-256")', "TypeError"),
    ('await crypto.subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "SHA-256" }, false, ["encrypt"])',
     "SyntaxError"),
    ('await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, [])', "SyntaxError"),
    ('await crypto.subtle.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"])', "DataError"),
    ('await crypto.subtle.importKey("jwk", { kty: "RSA", k: "AAAA" }, "AES-GCM", false, ["encrypt"])', "DataError"),
    ('await crypto.subtle.importKey("spki", new Uint8Array(16), "Ed25519", false, ["verify"])', "DataError"),
    ('await crypto.subtle.exportKey("raw", await crypto.subtle.generateKey({ name: "AES-CBC", length: 128 }, false,'
     ' ["encrypt"]))', "InvalidAccessError"),
    ('await crypto.subtle.sign("HMAC", await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-1" }, false,'
     ' ["verify"]), new Uint8Array(1))', "InvalidAccessError"),
    ('await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, await crypto.subtle.generateKey('
     '{ name: "AES-GCM", length: 128 }, false, ["decrypt"]), new Uint8Array(40))', "OperationError"),
    ('await crypto.subtle.digest("SHA-256", new Uint8Array(17 << 20))', "QuotaExceededError"),
])
def test_errors_are_the_spec_s_dom_exceptions(body: str, name: str) -> None:
    value = subtle(f"{body}; return 'no error';")
    assert isinstance(value, dict) and value["thrown"] == name, value


def test_crypto_keys_and_subtle_have_their_interfaces() -> None:
    assert subtle("""
        const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["verify", "sign", "sign"]);
        let constructed;
        try { new CryptoKey(); } catch (e) { constructed = e.name; }
        return [crypto.subtle instanceof SubtleCrypto, key instanceof CryptoKey, String(key), key.usages,
                key.algorithm === key.algorithm, key.algorithm, constructed];
    """) == [True, True, "[object CryptoKey]", ["sign", "verify"], True,
             {"name": "HMAC", "length": 512, "hash": {"name": "SHA-256"}}, "TypeError"]


def test_a_key_imported_at_the_top_level_works_in_every_call(snapshot: bool) -> None:
    source = HELPERS + """
    const key = await crypto.subtle.importKey("raw", utf8("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    export default {
      async fetch() { return new Response(hex(await crypto.subtle.sign("HMAC", key, utf8("what do ya want for nothing?")))); },
    };"""
    for _ in range(2):
        assert run_js(source, snapshot=snapshot).body == \
            b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_generating_a_key_at_the_top_level_fails_the_deploy() -> None:
    with pytest.raises(InvalidCode, match="top level"):
        run_js('await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);'
               " export default { fetch() { return new Response('x'); } };")


def test_a_loop_of_digests_is_bounded_by_fuel_not_the_clock() -> None:
    # A 1 MiB SHA-256 is ~0.6 ms of host time and few guest instructions: unpriced, this loop would
    # run into the wall-clock deadline; priced, it runs out of fuel in a few dozen digests.
    source = """module.exports = async function (cb) {
      const data = new Uint8Array(1 << 20);
      for (;;) await crypto.subtle.digest("SHA-256", data);
    };"""
    started = time.monotonic()
    with pytest.raises(CpuLimitExceeded):
        run_js(source, limits=Limits(fuel=100_000_000, wall_clock_ms=10_000))
    assert time.monotonic() - started < 2
