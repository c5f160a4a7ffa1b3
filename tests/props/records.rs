//! The store's record decoders on damaged bytes: `None`, never a panic, never an allocation larger
//! than the bytes justify (a damaged count of 4 billion must not reserve 16 GiB).

use proptest::prelude::*;
use sg::chunk::ChunkKind;
use sg::syntax::Language;

use crate::alloc::largest_allocation;

/// A piece of an encoded record: records are sequences of little-endian integers, length-prefixed
/// strings and 16-byte hashes, so damaged records are best reached by damaging such sequences.
#[derive(Clone, Debug)]
enum Field {
    U32(u32),
    U64(u64),
    Str(Vec<u8>),
    Raw(Vec<u8>),
}

fn field() -> impl Strategy<Value = Field> {
    let names: Vec<&'static str> = ChunkKind::ALL
        .iter()
        .map(ChunkKind::name)
        .chain(Language::ALL.iter().map(Language::name))
        .collect();
    prop_oneof![
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(u32::MAX),
            Just(u32::MAX / 4),
            Just(1 << 20),
            0u32..16,
            any::<u32>()
        ]
        .prop_map(Field::U32),
        any::<u64>().prop_map(Field::U64),
        prop::sample::select(names).prop_map(|n| Field::Str(n.as_bytes().to_vec())),
        "[a-z_\n]{0,12}".prop_map(|s| Field::Str(s.into_bytes())),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Field::Str),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Field::Raw),
        Just(Field::Raw(vec![0xab; 16])),
    ]
}

fn encode(fields: &[Field]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        match f {
            Field::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Field::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Field::Str(b) => {
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(b);
            }
            Field::Raw(b) => out.extend_from_slice(b),
        }
    }
    out
}

/// The most one decode may ask for at once: a generous multiple of the input (strings are copied,
/// lists of strings cost a pointer triple per element, vectors double) plus a constant.
fn allowance(len: usize) -> usize {
    64 * len + 4096
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (_, largest) = largest_allocation(|| sg::store::decode_any(bytes));
    prop_assert!(
        largest <= allowance(bytes.len()),
        "decoding {} bytes allocated {largest} bytes at once",
        bytes.len()
    );
    Ok(())
}

proptest! {
    #[test]
    fn random_bytes_decode_without_panic_or_over_allocation(
        bytes in prop::collection::vec(any::<u8>(), 0..256)
    ) {
        check(&bytes)?;
    }

    #[test]
    fn damaged_records_decode_without_panic_or_over_allocation(
        fields in prop::collection::vec(field(), 0..16)
    ) {
        check(&encode(&fields))?;
    }
}

#[test]
fn a_damaged_chunk_count_does_not_reserve_memory_for_it() {
    // A file record: path "a", mtime, size, hash, then a chunk count of u32::MAX and no chunks.
    let bytes = encode(&[
        Field::Str(b"a".to_vec()),
        Field::U64(1),
        Field::U64(2),
        Field::Raw(vec![0; 16]),
        Field::U32(u32::MAX),
    ]);
    let (accepted, largest) = largest_allocation(|| sg::store::decode_any(&bytes));
    assert_eq!(accepted, [false; 4]);
    assert!(
        largest <= allowance(bytes.len()),
        "allocated {largest} bytes"
    );
}
