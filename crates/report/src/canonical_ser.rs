//! The canonical JSON of any `Serialize` value, written directly — the
//! same bytes as [`crate::canonical::canonical_value_json`] of
//! `serde_json::to_value(v)`, without building the `Value` tree.
//!
//! A report of a household with a few hundred records is some ten
//! thousand JSON nodes; building, cloning and dropping them as a `Value`
//! cost more than the policy itself. This writer serialises straight into
//! one buffer. An object's members are written where they come, and their
//! byte ranges noted; only an object whose keys did not come in sorted
//! order (a struct whose fields are not declared alphabetically) has its
//! members cut out and put back sorted by key bytes, as the canonical form
//! requires. A key given twice keeps its last value, as `serde_json`'s
//! maps do. Tests hold it to the `Value` path on every golden report.

use std::fmt::Write as _;

use serde::ser::{self, Serialize};

use crate::canonical::{round_float, write_escaped};

/// Why a value has no canonical JSON (a map key that is not a string or
/// an integer; a custom serialiser's own error).
#[derive(Debug)]
pub struct CanonicalError(String);

impl std::fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

impl ser::Error for CanonicalError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CanonicalError(msg.to_string())
    }
}

type R = Result<(), CanonicalError>;

/// The canonical JSON of `value`; with `skip`, the top-level object's
/// member of that name is left out (the report without its hash).
pub fn to_canonical<T: Serialize + ?Sized>(
    value: &T,
    skip: Option<&'static str>,
) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(64 * 1024);
    value.serialize(Canon {
        out: &mut out,
        skip,
    })?;
    Ok(out)
}

struct Canon<'a> {
    out: &'a mut String,
    /// Member to leave out of the object this serialiser writes.
    skip: Option<&'static str>,
}

impl<'a> Canon<'a> {
    fn nested(out: &'a mut String) -> Canon<'a> {
        Canon { out, skip: None }
    }
}

fn write_float(out: &mut String, x: f64) {
    match round_float(x).and_then(serde_json::Number::from_f64) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// An array being written.
struct Seq<'a> {
    out: &'a mut String,
    first: bool,
    /// `}` to close after `]` (a tuple variant).
    close_variant: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        v.serialize(Canon::nested(self.out))
    }

    fn finish(self) -> R {
        self.out.push(']');
        if self.close_variant {
            self.out.push('}');
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

thread_local! {
    /// Where [`Obj::finish`] moves an unsorted object's members aside.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Scratch capacity kept between objects (a whole report is ~40 KB).
const SCRATCH_KEPT: usize = 256 * 1024;

/// An object being written straight into `out`: where it starts, and
/// each member's key and byte range (`"key":value`, without the comma).
struct Obj<'a> {
    out: &'a mut String,
    start: usize,
    members: Vec<(std::borrow::Cow<'static, str>, usize, usize)>,
    in_order: bool,
    pending_key: Option<String>,
    skip: Option<&'static str>,
    close_variant: bool,
}

impl Obj<'_> {
    fn member<T: Serialize + ?Sized>(&mut self, key: std::borrow::Cow<'static, str>, v: &T) -> R {
        if self.skip == Some(&*key) {
            return Ok(());
        }
        if let Some((last, _, _)) = self.members.last() {
            if last.as_bytes() >= key.as_bytes() {
                self.in_order = false;
            }
            self.out.push(',');
        }
        let from = self.out.len();
        write_escaped(self.out, &key);
        self.out.push(':');
        v.serialize(Canon::nested(self.out))?;
        let to = self.out.len();
        self.members.push((key, from, to));
        Ok(())
    }

    fn finish(mut self) -> R {
        if !self.in_order {
            // Sorted by key bytes (stable: of equal keys the last given
            // wins), then written again in that order.
            // The members' text is moved aside into this thread's scratch
            // buffer (an object's members are all finished before it is,
            // so the buffer is never in use twice).
            SCRATCH.with_borrow_mut(|tail| {
                tail.clear();
                tail.push_str(&self.out[self.start..]);
                self.out.truncate(self.start);
                let base = self.start;
                self.members
                    .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let n = self.members.len();
                let mut first = true;
                for i in 0..n {
                    if i + 1 < n && self.members[i].0 == self.members[i + 1].0 {
                        continue;
                    }
                    if !first {
                        self.out.push(',');
                    }
                    first = false;
                    let (_, from, to) = &self.members[i];
                    self.out.push_str(&tail[from - base..to - base]);
                }
                if tail.capacity() > SCRATCH_KEPT {
                    *tail = String::new();
                }
            });
        }
        self.out.push('}');
        if self.close_variant {
            self.out.push('}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        self.pending_key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| CanonicalError("a map value without its key".into()))?;
        self.member(key.into(), v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.member(key.into(), v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Obj<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.member(key.into(), v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl<'a> ser::Serializer for Canon<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Obj<'a>;

    fn serialize_bool(self, v: bool) -> R {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        // As serde_json's values: an integer only within i64 / u64.
        if let Ok(v) = i64::try_from(v) {
            return self.serialize_i64(v);
        }
        match u64::try_from(v) {
            Ok(v) => self.serialize_u64(v),
            Err(_) => Err(CanonicalError(format!("{v} is out of range for JSON"))),
        }
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        match u64::try_from(v) {
            Ok(v) => self.serialize_u64(v),
            Err(_) => Err(CanonicalError(format!("{v} is out of range for JSON"))),
        }
    }
    fn serialize_f32(self, v: f32) -> R {
        write_float(self.out, f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        write_float(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        let mut b = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut b))
    }
    fn serialize_str(self, v: &str) -> R {
        write_escaped(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        use ser::SerializeSeq;
        let mut s = self.serialize_seq(Some(v.len()))?;
        for b in v {
            s.serialize_element(b)?;
        }
        s.end()
    }
    fn serialize_none(self) -> R {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        self.out.push('{');
        write_escaped(self.out, variant);
        self.out.push(':');
        v.serialize(Canon::nested(self.out))?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, CanonicalError> {
        self.out.push('[');
        Ok(Seq {
            out: self.out,
            first: true,
            close_variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, CanonicalError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, CanonicalError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Seq<'a>, CanonicalError> {
        self.out.push('{');
        write_escaped(self.out, variant);
        self.out.push_str(":[");
        Ok(Seq {
            out: self.out,
            first: true,
            close_variant: true,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Obj<'a>, CanonicalError> {
        self.out.push('{');
        let start = self.out.len();
        Ok(Obj {
            out: self.out,
            start,
            members: Vec::with_capacity(len.unwrap_or(0)),
            in_order: true,
            pending_key: None,
            skip: self.skip,
            close_variant: false,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Obj<'a>, CanonicalError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Obj<'a>, CanonicalError> {
        self.out.push('{');
        write_escaped(self.out, variant);
        self.out.push_str(":{");
        let start = self.out.len();
        Ok(Obj {
            out: self.out,
            start,
            members: Vec::with_capacity(len),
            in_order: true,
            pending_key: None,
            skip: None,
            close_variant: true,
        })
    }
}

/// Map keys, as `serde_json` accepts them: strings, characters, integers
/// (written as their decimal text), unit variants, newtypes of those.
struct KeySer;

fn key_error() -> CanonicalError {
    CanonicalError("a JSON object key must be a string or an integer".into())
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = CanonicalError;
    type SerializeSeq = ser::Impossible<String, CanonicalError>;
    type SerializeTuple = ser::Impossible<String, CanonicalError>;
    type SerializeTupleStruct = ser::Impossible<String, CanonicalError>;
    type SerializeTupleVariant = ser::Impossible<String, CanonicalError>;
    type SerializeMap = ser::Impossible<String, CanonicalError>;
    type SerializeStruct = ser::Impossible<String, CanonicalError>;
    type SerializeStructVariant = ser::Impossible<String, CanonicalError>;

    fn serialize_str(self, v: &str) -> Result<String, CanonicalError> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, CanonicalError> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, CanonicalError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, CanonicalError> {
        v.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_f32(self, _: f32) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, CanonicalError> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CanonicalError> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CanonicalError> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CanonicalError> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CanonicalError> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CanonicalError> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, CanonicalError> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CanonicalError> {
        Err(key_error())
    }
}
