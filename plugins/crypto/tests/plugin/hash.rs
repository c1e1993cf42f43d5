//! NIST (FIPS 180-4 / FIPS 202) example vectors.

use assay_plugin_crypto::hash::hash;
use assay_sdk::Value;

use crate::{bytes, call, error, table, text};

const M448: &str = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const M896: &str = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

/// (alg, [abc, empty, 448-bit, 896-bit, one million 'a'])
const VECTORS: [(&str, [&str; 5]); 6] = [
    (
        "sha224",
        [
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
            "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
            "c97ca9a559850ce97a04a96def6d99a9e0e0e2ab14e6b8df265fc0b3",
            "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67",
        ],
    ),
    (
        "sha256",
        [
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ],
    ),
    (
        "sha384",
        [
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
            "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
            "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
        ],
    ),
    (
        "sha512",
        [
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
        ],
    ),
    (
        "sha3-256",
        [
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
            "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376",
            "916f6061fe879741ca6469b43971dfdb28b1a32dc36cb3254e812be27aad1d18",
            "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1",
        ],
    ),
    (
        "sha3-512",
        [
            "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
            "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
            "04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636dee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e",
            "afebb2ef542e6579c50cad06d2e578f9f8dd6881d7dc824d26360feebf18a4fa73e3261122948efcfd492e74e82e2189ed0fb440d187f382270cb455f21dd185",
            "3c3a876da14034ab60627c077bb98f7e120a2a5370212dffb3385a18d4f38859ed311d0a9d5141ce9cc5c66ee689b266a8aa18ace8282a0e0db596c90b0a7b87",
        ],
    ),
];

#[test]
fn nist_vectors_for_every_algorithm() {
    let million = "a".repeat(1_000_000);
    let messages = ["abc", "", M448, M896, million.as_str()];
    for (alg, digests) in VECTORS {
        for (message, digest) in messages.iter().zip(digests) {
            let got = call(hash, vec![Value::from(*message), Value::from(alg)]).expect("hash");
            assert_eq!(
                text(&got),
                digest,
                "{alg} of a {}-byte message",
                message.len()
            );
        }
    }
}

/// RFC 1321's test suite for MD5 and FIPS 180's (and RFC 3174's) examples for SHA-1.
#[test]
fn md5_and_sha1_vectors() {
    let million = "a".repeat(1_000_000);
    let cases: [(&str, &str, &str); 7] = [
        ("md5", "", "d41d8cd98f00b204e9800998ecf8427e"),
        ("md5", "abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("md5", "message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "md5",
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
        ("sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("sha1", M448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("sha1", &million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
    ];
    for (alg, message, digest) in cases {
        let got = call(hash, vec![Value::from(message), Value::from(alg)]).expect("hash");
        assert_eq!(
            text(&got),
            digest,
            "{alg} of a {}-byte message",
            message.len()
        );
    }
}

#[test]
fn sha256_is_the_default_and_names_ignore_case() {
    let abc = VECTORS[1].1[0];
    assert_eq!(
        text(&call(hash, vec![Value::from("abc")]).expect("hash")),
        abc
    );
    assert_eq!(
        text(&call(hash, vec![Value::from("abc"), Value::from("SHA256")]).expect("hash")),
        abc
    );
}

#[test]
fn encodings() {
    let raw = call(
        hash,
        vec![
            Value::from("abc"),
            Value::from("sha256"),
            table(vec![("encoding", "raw".into())]),
        ],
    )
    .expect("raw");
    assert_eq!(bytes(&raw).len(), 32);
    assert_eq!(bytes(&raw)[..4], [0xba, 0x78, 0x16, 0xbf]);
    let b64 = call(
        hash,
        vec![
            Value::from(""),
            Value::Nil,
            table(vec![("encoding", "base64".into())]),
        ],
    )
    .expect("base64");
    assert_eq!(text(&b64), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    // the options may take the algorithm's place
    let short = call(
        hash,
        vec![Value::from(""), table(vec![("encoding", "base64".into())])],
    )
    .expect("short");
    assert_eq!(text(&short), text(&b64));
    // binary input is hashed as bytes
    let binary = call(
        hash,
        vec![Value::from(vec![0u8, 255, 0]), Value::from("sha256")],
    )
    .expect("binary");
    assert_eq!(text(&binary).len(), 64);
}

#[test]
fn argument_errors_name_the_argument() {
    assert_eq!(
        error(call(hash, vec![])),
        "bad argument #1 'data' (string expected, got no value)"
    );
    assert_eq!(
        error(call(hash, vec![Value::Int(1)])),
        "bad argument #1 'data' (string expected, got number)"
    );
    assert_eq!(
        error(call(hash, vec![Value::from("x"), Value::from("md4")])),
        "bad argument #2 'alg' (unknown algorithm 'md4'; expected sha224, sha256, sha384, sha512, sha3-256, sha3-512, md5 or sha1)"
    );
    assert_eq!(
        error(call(hash, vec![Value::from("x"), Value::Bool(true)])),
        "bad argument #2 'alg' (string expected, got boolean)"
    );
    assert_eq!(
        error(call(
            hash,
            vec![
                Value::from("x"),
                Value::from("sha256"),
                table(vec![("encoding", "hexx".into())])
            ]
        )),
        "bad argument #3 'opts' (field 'encoding': expected 'hex', 'base64' or 'raw', got 'hexx')"
    );
    assert_eq!(
        error(call(
            hash,
            vec![Value::from("x"), Value::from("sha256"), Value::from("raw")]
        )),
        "bad argument #3 'opts' (table expected, got string)"
    );
}
